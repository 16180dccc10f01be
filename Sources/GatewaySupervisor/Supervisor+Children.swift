import CGatewaySystem
import Foundation
import GatewayCore

/// The master's end of one child's control socketpair, with the bytes of a line not yet whole.
final class ControlChannel {
    let descriptor: Int32
    var inbox: [UInt8] = []
    init(descriptor: Int32) { self.descriptor = descriptor }
}

/// Forking children and talking to them over their control channels.
extension Supervisor {
    private func context(for child: SupervisedChild, controlDescriptor: Int32) -> ChildContext {
        var context = ChildContext(
            role: child.role, index: child.index, configuration: configuration, controlDescriptor: controlDescriptor)
        switch child.role {
        case .register:
            context.registerDescriptor = registerSocket?.descriptor
        case .gateway:
            context.clientDescriptors = clientSockets[child.index]
            context.innerDescriptor = innerSockets[child.index].descriptor
            context.innerPort = innerSockets[child.index].port
            // Only local workers are waited for: a gateway-only host must not wait for remote ones.
            context.expectedWorkers = configuration.runs(.worker) ? configuration.workerCount : 0
        case .worker:
            context.generation = child.generation
            context.canary = child.purpose == .canary
        case .httpAPI:
            context.httpAPIDescriptor = httpAPISocket?.descriptor
        case .master:
            break
        }
        return context
    }

    /// Every descriptor the master owns; a child closes all but its own.
    private func masterDescriptors() -> [Int32] {
        var all = [controlServer, signalRead, signalWrite] + callerDescriptors
        if let registerSocket { all.append(registerSocket.descriptor) }
        all += clientSockets.flatMap { $0 }
        all += innerSockets.map(\.descriptor)
        if let httpAPISocket { all.append(httpAPISocket.descriptor) }
        if let metricsSocket { all.append(metricsSocket.descriptor) }
        all += metricsClients.map(\.descriptor)
        all += channels.values.map(\.descriptor)
        all += controlClients.map(\.descriptor)
        return all
    }

    /// Forks the slot's process with a control socketpair, and tells the machine how it went.
    func spawn(_ id: ChildID) {
        // A slot the machine dropped after deciding to start it (an abandoned reload) stays down.
        guard let child = machine.child(id) else { return }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            logger.error("socketpair failed: \(String(cString: strerror(errno)))")
            perform(machine.spawnFailed(id, now: MasterInstant.now()))
            return
        }
        let masterPID = getpid()
        let pid = fork()
        if pid == 0 {
            // Child: keep only our own descriptors, restore signals, die with the master.
            let context = self.context(for: child, controlDescriptor: pair[1])
            var keep: Set<Int32> = [pair[1]]
            if let fd = context.registerDescriptor { keep.insert(fd) }
            if let fd = context.innerDescriptor { keep.insert(fd) }
            if let fd = context.httpAPIDescriptor { keep.insert(fd) }
            keep.formUnion(context.clientDescriptors)
            for fd in masterDescriptors() + [pair[0]] where !keep.contains(fd) { close(fd) }
            gwd_sys_reset_signals()
            _ = gwd_sys_set_parent_death_signal(SIGKILL)
            if getppid() != masterPID { _exit(1) }
            _ = gwd_sys_set_process_name("gwd-\(child.role.rawValue)-\(child.index)")
            runRole(context)
        }
        close(pair[1])
        guard pid > 0 else {
            close(pair[0])
            logger.error("fork failed: \(String(cString: strerror(errno)))")
            perform(machine.spawnFailed(id, now: MasterInstant.now()))
            return
        }
        _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
        channels[id] = ControlChannel(descriptor: pair[0])
        machine.childSpawned(id, pid: pid, now: MasterInstant.now())
        logger.debug("forked \(child.name)", metadata: ["gw.pid": "\(pid)"])
    }

    func closeChannel(of id: ChildID) {
        guard let channel = channels.removeValue(forKey: id) else { return }
        close(channel.descriptor)
    }

    func send(_ message: ControlMessage, to id: ChildID) {
        guard let channel = channels[id] else { return }
        if !FileDescriptorIO.writeAll(channel.descriptor, message.encodedLine()) {
            logger.debug("control write to \(machine.child(id)?.name ?? "\(id)") failed")
        }
    }

    /// Reads what the child wrote until the channel would block, handing each line to the machine.
    func readControl(of id: ChildID) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while let channel = channels[id] {
            let count = chunk.withUnsafeMutableBytes { read(channel.descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return  // EAGAIN: drained
            }
            if count == 0 {
                // The child closed its end: it is exiting; SIGCHLD will follow.
                closeChannel(of: id)
                machine.controlChannelClosed(id)
                return
            }
            channel.inbox += chunk[0..<count]
            while let newline = channel.inbox.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(channel.inbox[..<newline])
                channel.inbox.removeSubrange(...newline)
                if let message = ControlMessage.decode(line: line) { perform(machine.received(message, from: id, now: MasterInstant.now())) }
            }
            if channel.inbox.count > 16 << 20 { channel.inbox.removeAll() }  // a broken child must not grow us
        }
    }
}
