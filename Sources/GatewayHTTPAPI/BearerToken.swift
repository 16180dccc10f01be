import NIOHTTP1

/// Checks `Authorization: Bearer <token>` in constant time, so the comparison's duration
/// tells an attacker nothing about how much of a guess was right.
struct BearerToken {
    private let expected: [UInt8]

    /// An empty token accepts every request (allowed only on loopback listeners).
    init(_ token: String) {
        expected = Array(token.utf8)
    }

    func accepts(_ headers: HTTPHeaders) -> Bool {
        guard !expected.isEmpty else { return true }
        let values = headers["Authorization"]
        guard values.count == 1, let value = values.first else { return false }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        let given = Array(parts[1].utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
