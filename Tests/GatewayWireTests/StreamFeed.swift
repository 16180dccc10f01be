import GatewayWire
import NIOCore
import XCTest

/// Feeds a stream, cut into reads, to a scanner the way the engine will (each read appended to
/// the bytes not consumed, offered again from their front) or to a SwiftNIO decoder the way
/// `ByteToMessageHandler` does (`decode(buffer:)` until it returns nil or throws).
enum StreamFeed {
    enum Kind { case text, frame }

    struct Outcome: Equatable {
        var messages: [[UInt8]] = []
        /// `.tooLong` or `.malformed`: the connection was closed there.
        var failure: StreamScanResult?
        /// Bytes held at the end without a failure, and the size of the message they begin if known.
        var leftover = 0
        var pendingMessageSize = 0
    }

    static func scan(_ reads: [[UInt8]], _ kind: Kind, limit: Int, file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        var text = TextLineScanner(maximumLineLength: limit)
        var frame = LengthPrefixedScanner(maximumBodyLength: limit)
        var outcome = Outcome()
        var pending: [UInt8] = []
        var pendingMessageSize = 0
        for read in reads {
            pending += read
            var offset = 0
            while true {
                let result = pending[offset...].withUnsafeBytes { kind == .text ? text.scan($0) : frame.scan($0) }
                let available = pending.count - offset
                switch result {
                case .message(let body, let consumed):
                    guard consumed > 0, consumed <= available, body.lowerBound >= 0, body.upperBound <= consumed else {
                        XCTFail("\(result) of \(available) bytes", file: file, line: line)
                        return outcome
                    }
                    outcome.messages.append(Array(pending[(offset + body.lowerBound)..<(offset + body.upperBound)]))
                    offset += consumed
                    continue
                case .needMoreBytes(let size):
                    XCTAssert(size == 0 || size > available, "\(result) of \(available) bytes", file: file, line: line)
                    pendingMessageSize = size
                case .tooLong, .malformed:
                    outcome.failure = result
                    return outcome
                }
                break
            }
            pending.removeFirst(offset)
        }
        outcome.leftover = pending.count
        outcome.pendingMessageSize = pendingMessageSize
        return outcome
    }

    static func decodeWithNIO(_ reads: [[UInt8]], _ kind: Kind, limit: Int) -> Outcome {
        var text = LineFrameDecoder(maximumLineLength: limit)
        var frame = LengthPrefixedFrameDecoder(maximumBodyLength: limit)
        var outcome = Outcome()
        var buffer = ByteBuffer()
        do {
            for read in reads {
                buffer.writeBytes(read)
                while let message = try kind == .text ? text.decode(buffer: &buffer) : frame.decode(buffer: &buffer) {
                    outcome.messages.append(Array(message.readableBytesView))
                }
            }
        } catch is LineTooLongError {
            outcome.failure = .tooLong
            return outcome
        } catch LengthPrefixedFrameError.tooLong {
            outcome.failure = .tooLong
            return outcome
        } catch LengthPrefixedFrameError.lengthBelowHeader {
            outcome.failure = .malformed
            return outcome
        } catch {
            XCTFail("unexpected \(error)")
        }
        outcome.leftover = buffer.readableBytes
        // The decoder does not say; it is the header's length when a header is in.
        if kind == .frame, let total = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) {
            outcome.pendingMessageSize = Int(total)
        }
        return outcome
    }
}
