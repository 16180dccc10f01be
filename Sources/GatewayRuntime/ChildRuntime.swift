import GatewayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The common main of a forked child: one event loop thread, the control link to the master,
/// and the role's service. Never returns.
///
/// Each role runs its I/O on a single event loop, as a Workerman process does: all of a
/// gateway's state (connections, groups, uids) is then touched by one thread without locks,
/// and more cores are used by running more processes.
public enum ChildRuntime {
    public static func run(
        controlDescriptor: Int32, logger: Logger,
        makeService: (EventLoop, ChildReporter) throws -> RoleService
    ) -> Never {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let exitCode = eventLoop.makePromise(of: Int32.self)
        let service = NIOLockedValueBox<RoleService?>(nil)

        let link: ControlLink
        do {
            link = try ControlLink.attach(
                descriptor: controlDescriptor, on: eventLoop,
                onMessage: { message, link in
                    // Also while the role is still starting: its lines must follow the rotation too.
                    if message.kind == .reopenLog, let path = message.path {
                        switch LogFile.reopen(path) {
                        case .success: logger.info("log file reopened", metadata: ["gw.path": "\(path)"])
                        case .failure(let error): logger.error("\(error); still writing to the old file")
                        }
                        return
                    }
                    guard let current = service.withLockedValue({ $0 }) else { return }
                    switch message.kind {
                    case .statsRequest:
                        link.send(ControlMessage(kind: .stats, id: message.id, stats: current.counters()))
                    case .connectionsRequest:
                        link.send(ControlMessage(kind: .connections, id: message.id, connections: current.connections()))
                    case .stop:
                        current.shutdown().whenComplete { _ in exitCode.succeed(0) }
                    case .drain:
                        // The last counters go to the master before the exit, so a reload's
                        // old workers leave nothing uncounted in /metrics.
                        current.drain().whenComplete { _ in
                            link.sendAndFlush(ControlMessage(kind: .stats, stats: current.counters())).whenComplete { _ in
                                exitCode.succeed(0)
                            }
                        }
                    case .quiesce:
                        current.quiesce()
                    case .reloadTLS:
                        current.reloadTLS()
                    default:
                        break
                    }
                },
                onClose: {
                    // The master is gone: nobody supervises us any more.
                    exitCode.succeed(0)
                }
            ).wait()
        } catch {
            logger.critical("cannot attach the control channel: \(error)")
            _exit(1)
        }
        let reporter = ChildReporter(link: link)
        do {
            // Built on this (main) thread, not the loop: a role may block here until it serves.
            let created = try makeService(eventLoop, reporter)
            service.withLockedValue { $0 = created }
        } catch {
            reporter.fail("\(error)")
        }
        let code = (try? exitCode.futureResult.wait()) ?? 1
        _exit(code)
    }
}
