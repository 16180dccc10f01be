/// A line (register protocol / `text://`) grew past the decoder's limit without a `"\n"`.
///
/// Fatal for the connection; Workerman likewise closes a connection whose buffered input
/// reaches its `maxPackageSize`.
public struct LineTooLongError: Error, Hashable {
    /// The configured `maximumLineLength`.
    public var limit: Int

    public init(limit: Int) {
        self.limit = limit
    }
}
