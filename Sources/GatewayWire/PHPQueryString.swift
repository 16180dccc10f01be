/// PHP's `parse_str()` and `urldecode()`, as Workerman uses them to build `$_GET` and
/// `$_COOKIE` for the websocket-connect body.
///
/// Reproduces PHP 8's `php_default_treat_data` + `php_register_variable_ex`: pairs split on
/// `&` (empty ones skipped), name and value `+`/percent-decoded, spaces and dots in the base
/// name turned into `_`, `a[]=` / `a[k][]=` building nested arrays (at most 64 levels), an
/// unclosed `[` becoming `_`, numeric keys coerced, at most 1000 variables. Stateless.
public enum PHPQueryString {
    /// PHP's `max_input_vars` default.
    public static let maximumVariables = 1000
    /// PHP's `max_input_nesting_level` default.
    public static let maximumNestingLevel = 64

    /// `parse_str($query, $result)`.
    public static func parse(_ query: some Collection<UInt8>) -> PHPArray {
        var result = PHPArray()
        // The C implementation works on a NUL-terminated copy.
        let input = query.prefix { $0 != 0 }
        var count = 0
        for pair in input.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            count += 1
            guard count <= self.maximumVariables else { break }
            let name: [UInt8]
            let value: [UInt8]
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                name = self.urlDecode(pair[pair.startIndex..<equals])
                value = self.urlDecode(pair[pair.index(after: equals)...])
            } else {
                name = self.urlDecode(pair)
                value = []
            }
            self.register(name: name, value: .string(value), into: &result)
        }
        return result
    }

    /// `parse_str()` on the UTF-8 bytes of `query`.
    public static func parse(_ query: String) -> PHPArray {
        self.parse(Array(query.utf8))
    }

    /// PHP `urldecode()`: `+` is a space, `%XX` (two hex digits) a byte, anything else literal.
    public static func urlDecode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = self.hexValue(input[index + 1]), let low = self.hexValue(input[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func isCSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// `php_register_variable_ex`: stores `value` under the (possibly bracketed) `name`.
    static func register(name rawName: [UInt8], value: PHPValue, into result: inout PHPArray) {
        // The name is a C string: it ends at its first NUL; leading spaces are ignored.
        var name = Array(rawName.prefix { $0 != 0 }.drop { $0 == UInt8(ascii: " ") })
        let original = name
        var bracket: Int? = nil
        for index in name.indices {
            if name[index] == UInt8(ascii: " ") || name[index] == UInt8(ascii: ".") {
                name[index] = UInt8(ascii: "_")
            } else if name[index] == UInt8(ascii: "[") {
                bracket = index
                break
            }
        }
        let baseLength = bracket ?? name.count
        // Mangling must not forge the cookie prefixes browsers treat specially.
        for prefix in ["__Host-", "__Secure-"] {
            let prefixBytes = Array(prefix.utf8)
            if name[..<baseLength].starts(with: prefixBytes) && !original.starts(with: prefixBytes) {
                return
            }
        }
        guard baseLength > 0 else { return }

        // `path` holds the keys walked so far (nil = append); `index` is the pending key.
        var path: [PHPArrayKey?] = []
        var index: PHPArrayKey? = PHPArrayKey(coercing: Array(name[..<baseLength]))
        if var position = bracket {
            var level = 0
            while true {
                level += 1
                if level > self.maximumNestingLevel {
                    // PHP drops the variable but keeps the arrays it already created.
                    _ = self.assign(nil, at: path, into: &result)
                    return
                }
                position += 1
                let indexStart = position
                if position < name.count, self.isCSpace(name[position]) {
                    position += 1
                }
                let newIndex: PHPArrayKey?
                if position < name.count, name[position] == UInt8(ascii: "]") {
                    newIndex = nil
                } else if let close = name[position...].firstIndex(of: UInt8(ascii: "]")) {
                    newIndex = PHPArrayKey(coercing: Array(name[indexStart..<close]))
                    position = close
                } else {
                    // An unclosed "[": PHP turns it into "_" — at the first level the rest of
                    // the name (unmangled) joins the base name; deeper, the pending key stays.
                    if path.isEmpty {
                        var joined = Array(name[..<baseLength])
                        joined.append(UInt8(ascii: "_"))
                        joined.append(contentsOf: name[indexStart...])
                        index = PHPArrayKey(coercing: joined)
                    }
                    break
                }
                path.append(index)
                index = newIndex
                position += 1
                guard position < name.count, name[position] == UInt8(ascii: "[") else { break }
            }
        }
        _ = self.assign((index, value), at: path, into: &result)
    }

    /// Walks `path` (creating arrays, replacing non-arrays, appending for nil keys), then
    /// stores `final` if given. Returns false when an append failed, which ends the walk.
    private static func assign(
        _ final: (key: PHPArrayKey?, value: PHPValue)?,
        at path: some Collection<PHPArrayKey?>,
        into array: inout PHPArray
    ) -> Bool {
        guard let first = path.first else {
            guard let final else { return true }
            if let key = final.key {
                array[key] = final.value
            } else {
                array.append(final.value)
            }
            return true
        }
        let rest = path.dropFirst()
        var nested: PHPArray
        let key: PHPArrayKey
        if let first {
            key = first
            if case .array(let existing)? = array[first] {
                nested = existing
                array[first] = .null  // release the stored copy so `nested` is uniquely owned
            } else {
                nested = PHPArray()
            }
        } else {
            let before = array.count
            array.append(.array(PHPArray()))
            guard array.count > before, case .int(let appended)? = array.keys.last else { return false }
            key = .int(appended)
            nested = PHPArray()
        }
        let completed = self.assign(final, at: rest, into: &nested)
        array[key] = .array(nested)
        return completed
    }
}
