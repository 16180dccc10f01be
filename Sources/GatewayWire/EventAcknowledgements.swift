// The bodies of EVENTS_DONE (236) and WORKER_CRASHED (237), gatewayd's event
// acknowledgements (GatewaydProtocolExtensions.swift says when each is sent).

import NIOCore

/// EVENTS_DONE's body: two big-endian u64 counts of the connection's events since
/// WORKER_CONNECT.
public struct EventsDone: Equatable, Sendable {
    /// Events finished: their commands are all ahead of this frame.
    public var finished: UInt64
    /// Events started whose commands may be partly ahead of this frame: `finished`, or one
    /// more while a query flushed the running event's commands.
    public var started: UInt64

    public static let bodyLength = 16

    public init(finished: UInt64, started: UInt64) {
        self.finished = finished
        self.started = started
    }

    /// Nil for a body of another length or with fewer started than finished events.
    public init?(body: ByteBuffer) {
        guard body.readableBytes == Self.bodyLength,
            let finished = body.getInteger(at: body.readerIndex, as: UInt64.self),
            let started = body.getInteger(at: body.readerIndex + 8, as: UInt64.self), started >= finished
        else { return nil }
        self.finished = finished
        self.started = started
    }
}

extension ByteBuffer {
    /// Appends an EVENTS_DONE frame.
    public mutating func writeEventsDone(_ done: EventsDone) {
        var body: (UInt64, UInt64) = (done.finished.bigEndian, done.started.bigEndian)
        withUnsafeBytes(of: &body) { writeCommand(.eventsDone, body: $0) }
    }
}

/// WORKER_CRASHED's body: the index of the event the worker crashed in among the
/// connection's events since WORKER_CONNECT (big-endian u64) and the signal (big-endian u32).
public struct WorkerCrashed: Equatable, Sendable {
    public var event: UInt64
    public var signal: Int32

    public static let bodyLength = 12

    public init(event: UInt64, signal: Int32) {
        self.event = event
        self.signal = signal
    }

    public init?(body: ByteBuffer) {
        guard body.readableBytes == Self.bodyLength,
            let event = body.getInteger(at: body.readerIndex, as: UInt64.self),
            let signal = body.getInteger(at: body.readerIndex + 8, as: Int32.self)
        else { return nil }
        self.event = event
        self.signal = signal
    }

    /// The frame with a zero body, for a crash handler to fill in: it cannot encode a frame
    /// itself (no allocation in a signal handler), so it copies this one and writes the event
    /// index and the signal, big-endian, at `bodyOffset`.
    public static func template() -> (frame: [UInt8], bodyOffset: Int) {
        let frame = ByteBuffer.command(.workerCrashed, body: [UInt8](repeating: 0, count: bodyLength))
        return (Array(frame.readableBytesView), frame.readableBytes - bodyLength)
    }
}
