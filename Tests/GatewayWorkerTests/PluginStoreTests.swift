import Foundation
import XCTest

@testable import GatewayWorker

final class PluginStoreTests: XCTestCase {
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory("store")
    }

    override func tearDown() {
        scratch.remove()
        scratch = nil
    }

    private var storeDirectory: String { scratch.file("run/plugins") }

    private func status(_ path: String) throws -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return info
    }

    private func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: storeDirectory).sorted()
    }

    /// SHA-256 as `sha256sum` prints it: an oracle independent of the code under test.
    private func sha256sum(_ path: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else {
            throw XCTSkip("no /usr/bin/sha256sum")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    // MARK: - Content addressing

    func testKnownDigests() throws {
        let store = PluginStore(directory: storeDirectory)
        let abc = try store.add(try scratch.write(Array("abc".utf8), to: "abc.so"))
        XCTAssertEqual(abc.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let empty = try store.add(try scratch.write([], to: "empty.so"))
        XCTAssertEqual(empty.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testCopyIsNamedAfterItsSHA256() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let source = try scratch.write(bytes, to: "plugin.so")
        let expected = try sha256sum(source)

        let entry = try PluginStore(directory: storeDirectory).add(source)

        XCTAssertEqual(entry.sha256, expected)
        XCTAssertEqual(entry.path, "\(storeDirectory)/\(expected).so")
        XCTAssertEqual(try contents(entry.path), bytes)
        XCTAssertEqual(try sha256sum(entry.path), expected)
    }

    func testDigestIsLowercaseHex() throws {
        let entry = try PluginStore(directory: storeDirectory).add(try scratch.write([1, 2, 3], to: "p.so"))
        XCTAssertEqual(entry.sha256.count, 64)
        XCTAssertTrue(entry.sha256.allSatisfy { "0123456789abcdef".contains($0) }, entry.sha256)
    }

    func testStoreDirectoryIsCreated() throws {
        XCTAssertFalse(FileManager.default.fileExists(atPath: storeDirectory))
        _ = try PluginStore(directory: storeDirectory).add(try scratch.write([7], to: "p.so"))
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: storeDirectory, isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
    }

    func testCopyIsReadOnly() throws {
        let entry = try PluginStore(directory: storeDirectory).add(try scratch.write([1, 2, 3], to: "p.so"))
        XCTAssertEqual(try status(entry.path).st_mode & 0o7777, 0o444)
        XCTAssertEqual(try status(entry.path).st_mode & S_IFMT, S_IFREG)
    }

    func testTheSourceIsLeftAlone() throws {
        let source = try scratch.write([9, 9, 9], to: "p.so")
        let before = try status(source)
        _ = try PluginStore(directory: storeDirectory).add(source)
        let after = try status(source)
        XCTAssertEqual(after.st_ino, before.st_ino)
        XCTAssertEqual(after.st_mode, before.st_mode)
        XCTAssertEqual(try contents(source), [9, 9, 9])
    }

    func testSameContentTwiceIsNotRewritten() throws {
        let store = PluginStore(directory: storeDirectory)
        let first = try store.add(try scratch.write([1, 2, 3], to: "a.so"))
        let inode = try status(first.path).st_ino

        let second = try store.add(try scratch.write([1, 2, 3], to: "b.so"))

        XCTAssertEqual(second, first)
        XCTAssertEqual(try status(second.path).st_ino, inode, "a rewrite would have renamed a new file into place")
        XCTAssertEqual(try listing(), ["\(first.sha256).so"])
    }

    func testChangedSourceGivesANewCopyAndKeepsTheOld() throws {
        let store = PluginStore(directory: storeDirectory)
        let source = scratch.file("p.so")
        _ = try scratch.write([1], to: "p.so")
        let old = try store.add(source)
        _ = try scratch.write([2], to: "p.so")
        let new = try store.add(source)

        XCTAssertNotEqual(new.sha256, old.sha256)
        XCTAssertNotEqual(new.path, old.path)
        XCTAssertEqual(try contents(old.path), [1], "a worker may still have the old copy mapped")
        XCTAssertEqual(try contents(new.path), [2])
        XCTAssertEqual(try listing(), ["\(old.sha256).so", "\(new.sha256).so"].sorted())
    }

    func testNoTemporaryFilesAreLeft() throws {
        let store = PluginStore(directory: storeDirectory)
        let a = try store.add(try scratch.write(Array("first".utf8), to: "a.so"))
        let b = try store.add(try scratch.write(Array("second".utf8), to: "b.so"))
        _ = try store.add(try scratch.write(Array("first".utf8), to: "c.so"))
        XCTAssertEqual(try listing(), ["\(a.sha256).so", "\(b.sha256).so"].sorted())
    }

    // MARK: - Errors

    func testMissingSourceThrowsUnreadableNamingThePath() throws {
        let missing = scratch.file("does-not-exist.so")
        XCTAssertThrowsError(try PluginStore(directory: storeDirectory).add(missing)) { error in
            guard case .unreadable(let path, let reason) = error as? PluginLoadError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, missing)
            XCTAssertEqual(reason, "no such file")
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
            XCTAssertEqual("\(error)", "cannot read plugin \(missing): no such file")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: storeDirectory), "nothing is created for a failed add")
    }

    /// The reason names what is wrong with the path, not a guess.
    func testADirectoryIsRefusedAsADirectory() throws {
        let source = scratch.path + "/adir.so"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        XCTAssertThrowsError(try PluginStore(directory: storeDirectory).add(source)) { error in
            XCTAssertEqual(error as? PluginLoadError, .unreadable(path: source, reason: "is a directory"))
        }
    }

    func testUnwritableStoreThrowsStore() throws {
        // A regular file where the store directory should be: creating it fails for root too.
        let blocker = try scratch.write([0], to: "blocker")
        let store = PluginStore(directory: "\(blocker)/plugins")
        XCTAssertThrowsError(try store.add(try scratch.write([1], to: "p.so"))) { error in
            guard case .store(let reason) = error as? PluginLoadError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("\(blocker)/plugins"), reason)
        }
    }
}
