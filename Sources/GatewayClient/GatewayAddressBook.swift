import GatewayCore
import NIOConcurrencyHelpers
import NIOCore

/// The gateways' inner addresses, asked of the registers at most once per `lifetime` (PHP's
/// GatewayClient asks again when its list is more than a second old). Concurrent callers share
/// one lookup; registers are tried in order, starting with the one that answered last.
final class GatewayAddressBook: Sendable {
    private struct State {
        var addresses: [String] = []
        var fetchedAt: NIODeadline?
        var lookup: Task<Result<[String], GatewayClientError>, Never>?
        var preferred = 0
    }

    private let configuration: GatewayClientConfiguration
    private let eventLoopGroup: EventLoopGroup
    private let state = NIOLockedValueBox(State())
    /// Told every fresh list (the connection pool drops gateways that left).
    private let onLookup: @Sendable ([String]) -> Void

    init(configuration: GatewayClientConfiguration, eventLoopGroup: EventLoopGroup, onLookup: @escaping @Sendable ([String]) -> Void) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.onLookup = onLookup
    }

    func addresses() async throws(GatewayClientError) -> [String] {
        let lifetime = TimeAmount(configuration.addressListLifetime)
        let next = state.withLockedValue { state -> Next in
            if let fetchedAt = state.fetchedAt, NIODeadline.now() - fetchedAt < lifetime { return .cached(state.addresses) }
            if let running = state.lookup { return .wait(running) }
            let started = Task { await self.askRegisters() }
            state.lookup = started
            return .wait(started)
        }
        switch next {
        case .cached(let addresses): return addresses
        case .wait(let lookup): return try await lookup.value.get()
        }
    }

    private enum Next {
        case cached([String])
        case wait(Task<Result<[String], GatewayClientError>, Never>)
    }

    private func askRegisters() async -> Result<[String], GatewayClientError> {
        let registers = configuration.registers
        let first = state.withLockedValue { $0.preferred }
        var failures: [GatewayFailure] = []
        for offset in registers.indices {
            let index = (first + offset) % registers.count
            let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
            let answer = await RegisterLookup.addresses(
                from: registers[index], secretKey: configuration.secretKey, deadline: deadline, on: eventLoopGroup.next())
            switch answer {
            case .success(let addresses):
                state.withLockedValue {
                    $0.addresses = addresses
                    $0.fetchedAt = .now()
                    $0.preferred = index
                    $0.lookup = nil
                }
                onLookup(addresses)
                return .success(addresses)
            case .failure(let failure):
                failures.append(failure)
            }
        }
        state.withLockedValue { $0.lookup = nil }
        return .failure(.noRegister(failures))
    }
}
