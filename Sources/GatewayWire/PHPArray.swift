/// A PHP array: an ordered map from `PHPArrayKey` to `PHPValue`.
///
/// Why not `[PHPArrayKey: PHPValue]`: PHP arrays keep insertion order, and the order is part of
/// the wire format (sessions, the websocket-connect `server` array). Keys are unique; assigning
/// an existing key keeps its position, removing one keeps the order of the rest, and `append`
/// picks the next integer key like `$a[] = v` (PHP 8.2 rules: one past the largest integer key
/// ever inserted, at least 0). Small arrays (most sessions) are searched linearly; larger ones
/// get a hash index.
///
/// Equality and hashing compare the entries in order, like PHP's `===`.
public struct PHPArray: Hashable, Sendable {
    private var storedKeys: [PHPArrayKey] = []
    private var storedValues: [PHPValue] = []
    /// Key → position, only once the array is larger than `linearSearchLimit`.
    private var lookup: [PHPArrayKey: Int]? = nil
    /// PHP's `nNextFreeElement`.
    private var nextFreeIndex: Int = 0

    private static let linearSearchLimit = 8

    public init() {}

    /// A list: keys 0..<values.count.
    public init(_ values: [PHPValue]) {
        self.storedKeys = values.indices.map { .int($0) }
        self.storedValues = values
        self.nextFreeIndex = values.count
        self.rebuildLookupIfNeeded()
    }

    /// Entries in order; later duplicates of a key overwrite the earlier value in place.
    public init(entries: some Sequence<(key: PHPArrayKey, value: PHPValue)>) {
        for (key, value) in entries {
            self[key] = value
        }
    }

    public var count: Int { self.storedKeys.count }
    public var isEmpty: Bool { self.storedKeys.isEmpty }

    public subscript(key: PHPArrayKey) -> PHPValue? {
        get {
            self.position(of: key).map { self.storedValues[$0] }
        }
        set {
            if let newValue {
                self.set(newValue, for: key)
            } else {
                self.remove(key)
            }
        }
    }

    /// Coerces the key like PHP: `array["1"]` is `array[.int(1)]`.
    public subscript(key: String) -> PHPValue? {
        get { self[PHPArrayKey(coercing: key)] }
        set { self[PHPArrayKey(coercing: key)] = newValue }
    }

    /// Appends with the next integer key like PHP `$a[] = v`.
    ///
    /// As in PHP, nothing is added when that key is taken (only possible after `Int.max` was
    /// used as a key).
    public mutating func append(_ v: PHPValue) {
        let key = PHPArrayKey.int(self.nextFreeIndex)
        guard self.position(of: key) == nil else { return }
        self.set(v, for: key)
    }

    /// The entries in order.
    public var entries: [(key: PHPArrayKey, value: PHPValue)] {
        zip(self.storedKeys, self.storedValues).map { (key: $0, value: $1) }
    }

    public var keys: [PHPArrayKey] { self.storedKeys }
    public var values: [PHPValue] { self.storedValues }

    /// Whether the keys are exactly 0..<count in order (`array_is_list`): such arrays are JSON
    /// lists, every other array a JSON object.
    public var isList: Bool {
        for (position, key) in self.storedKeys.enumerated() {
            guard case .int(let value) = key, value == position else { return false }
        }
        return true
    }

    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        self.storedKeys.reserveCapacity(minimumCapacity)
        self.storedValues.reserveCapacity(minimumCapacity)
    }

    // MARK: Storage

    private func position(of key: PHPArrayKey) -> Int? {
        if let lookup = self.lookup {
            return lookup[key]
        }
        return self.storedKeys.firstIndex(of: key)
    }

    private mutating func set(_ value: PHPValue, for key: PHPArrayKey) {
        if let position = self.position(of: key) {
            self.storedValues[position] = value
            return
        }
        if case .int(let index) = key, index >= self.nextFreeIndex {
            self.nextFreeIndex = index == Int.max ? Int.max : index + 1
        }
        self.storedKeys.append(key)
        self.storedValues.append(value)
        if self.lookup != nil {
            self.lookup![key] = self.storedKeys.count - 1
        } else {
            self.rebuildLookupIfNeeded()
        }
    }

    private mutating func remove(_ key: PHPArrayKey) {
        guard let position = self.position(of: key) else { return }
        self.storedKeys.remove(at: position)
        self.storedValues.remove(at: position)
        self.lookup = nil
        self.rebuildLookupIfNeeded()
    }

    private mutating func rebuildLookupIfNeeded() {
        guard self.lookup == nil, self.storedKeys.count > PHPArray.linearSearchLimit else { return }
        var lookup = [PHPArrayKey: Int](minimumCapacity: self.storedKeys.count)
        for (position, key) in self.storedKeys.enumerated() {
            lookup[key] = position
        }
        self.lookup = lookup
    }

    // MARK: Hashable

    public static func == (lhs: PHPArray, rhs: PHPArray) -> Bool {
        lhs.storedKeys == rhs.storedKeys && lhs.storedValues == rhs.storedValues
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.storedKeys)
        hasher.combine(self.storedValues)
    }
}

extension PHPArray: ExpressibleByDictionaryLiteral {
    /// String keys are coerced like PHP source: `["1": x]` has the int key 1.
    public init(dictionaryLiteral elements: (String, PHPValue)...) {
        for (key, value) in elements {
            self[PHPArrayKey(coercing: key)] = value
        }
    }
}

extension PHPArray: ExpressibleByArrayLiteral {
    /// A list literal, keys 0..<n.
    public init(arrayLiteral elements: PHPValue...) {
        self.init(elements)
    }
}

extension PHPArray: Sequence {
    public typealias Element = (key: PHPArrayKey, value: PHPValue)

    public struct Iterator: IteratorProtocol {
        private var keys: IndexingIterator<[PHPArrayKey]>
        private var values: IndexingIterator<[PHPValue]>

        init(keys: [PHPArrayKey], values: [PHPValue]) {
            self.keys = keys.makeIterator()
            self.values = values.makeIterator()
        }

        public mutating func next() -> (key: PHPArrayKey, value: PHPValue)? {
            guard let key = self.keys.next(), let value = self.values.next() else { return nil }
            return (key: key, value: value)
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(keys: self.storedKeys, values: self.storedValues)
    }

    public var underestimatedCount: Int { self.count }
}
