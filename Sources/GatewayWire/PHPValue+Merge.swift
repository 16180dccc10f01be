extension PHPValue {
    /// PHP array_replace_recursive(self, other) semantics
    ///
    /// This is how a gateway applies `CMD_UPDATE_SESSION`: for each entry of `other`, when both
    /// sides hold an array under that key the two are merged recursively; otherwise `other`'s
    /// value replaces (keeping the key's position) or is appended. Integer keys are matched by
    /// value, so lists merge by index (`[a, b]` with `[c]` gives `[c, b]`). When either side is
    /// not an array, the result is `other` (PHP would throw a TypeError instead).
    public func replacingRecursive(with other: PHPValue) -> PHPValue {
        guard case .array(var base) = self, case .array(let replacement) = other else {
            return other
        }
        PHPValue.replaceRecursive(&base, with: replacement)
        return .array(base)
    }

    private static func replaceRecursive(_ base: inout PHPArray, with replacement: PHPArray) {
        for (key, value) in replacement {
            if case .array(let nestedReplacement) = value, case .array(var nestedBase)? = base[key] {
                base[key] = .null  // drop the stored copy so the merge below mutates in place
                self.replaceRecursive(&nestedBase, with: nestedReplacement)
                base[key] = .array(nestedBase)
            } else {
                base[key] = value
            }
        }
    }
}
