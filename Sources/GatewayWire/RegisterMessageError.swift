/// Why a register-protocol line was refused.
///
/// `notJSON` and `missingEvent` are the cases where a PHP register answers with
/// `RegisterMessage.badRequestLine` before closing; for the others it closes silently.
public enum RegisterMessageError: Error, Hashable {
    /// The line is not valid JSON (PHP's `json_decode` fails).
    case notJSON
    /// Valid JSON but not an object with a non-empty `event` (PHP's `empty($data['event'])`).
    case missingEvent
    /// An event name the register does not handle.
    case unknownEvent(String)
    /// `gateway_connect` without a non-empty `address`.
    case missingAddress
}
