/// Formats a `Double` exactly like PHP 8 with `serialize_precision = -1` (`serialize()`,
/// `json_encode()`, `var_export()`).
///
/// PHP asks `zend_dtoa` for the shortest digits that round-trip (mode 0) and lays them out with
/// `zend_gcvt(value, 17, '.', exponentChar)`: plain notation while the decimal exponent is
/// within -3...17, otherwise `d.dddE+x` with at least one fractional digit (`1.0E+25`). Swift's
/// `description` yields the same shortest digits, so only the layout is re-done here. Non-finite
/// values become `INF`, `-INF`, `NAN`.
enum PHPDoubleFormatter {
    /// - Parameter exponent: `E` for `serialize()`, `e` for `json_encode()`.
    static func format(_ value: Double, exponent: UInt8) -> [UInt8] {
        if value.isNaN { return Array("NAN".utf8) }
        if value.isInfinite { return Array((value < 0 ? "-INF" : "INF").utf8) }

        let (digits, decimalPoint) = shortestDigits(value.magnitude)
        var out: [UInt8] = []
        out.reserveCapacity(digits.count + 8)
        if value.sign == .minus { out.append(UInt8(ascii: "-")) }
        guard !digits.isEmpty else {
            out.append(UInt8(ascii: "0"))  // 0 and -0
            return out
        }

        // value = 0.d1d2d3... × 10^decimalPoint
        if decimalPoint < -3 || decimalPoint > 17 {
            out.append(digits[0])
            out.append(UInt8(ascii: "."))
            if digits.count == 1 {
                out.append(UInt8(ascii: "0"))
            } else {
                out.append(contentsOf: digits[1...])
            }
            out.append(exponent)
            let power = decimalPoint - 1
            out.append(power < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            out.append(contentsOf: String(power.magnitude).utf8)
        } else if decimalPoint <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -decimalPoint))
            out.append(contentsOf: digits)
        } else if digits.count <= decimalPoint {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: decimalPoint - digits.count))
        } else {
            out.append(contentsOf: digits[..<decimalPoint])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[decimalPoint...])
        }
        return out
    }

    /// The shortest round-trip significant digits of a finite, non-negative value (no leading or
    /// trailing zeros; empty for zero) and the position of the decimal point relative to them.
    ///
    /// Read off Swift's `description`, whatever notation it chose (`0.001`, `1e-07`,
    /// `1.2345e+16`, `12345.0`).
    private static func shortestDigits(_ value: Double) -> (digits: [UInt8], decimalPoint: Int) {
        var digits: [UInt8] = []
        var integerDigits = 0
        var seenPoint = false
        var exponent = 0
        var exponentNegative = false
        var inExponent = false
        for byte in value.description.utf8 {
            if inExponent {
                switch byte {
                case UInt8(ascii: "-"): exponentNegative = true
                case UInt8(ascii: "+"): break
                default: exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0"))
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
                if !seenPoint { integerDigits += 1 }
            case UInt8(ascii: "."):
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            default:
                break
            }
        }
        var decimalPoint = integerDigits + (exponentNegative ? -exponent : exponent)
        var leadingZeros = 0
        while leadingZeros < digits.count, digits[leadingZeros] == UInt8(ascii: "0") {
            leadingZeros += 1
        }
        decimalPoint -= leadingZeros
        var end = digits.count
        while end > leadingZeros, digits[end - 1] == UInt8(ascii: "0") {
            end -= 1
        }
        return (Array(digits[leadingZeros..<end]), decimalPoint)
    }
}
