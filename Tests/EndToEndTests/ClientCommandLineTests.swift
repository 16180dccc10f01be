import Foundation
import XCTest

/// `gatewayd client`: every GatewayWorker function once against a cluster of 2 gateways (the
/// checks are `PushSuite`'s), plus what only the command line has: register failover, the
/// running cluster's settings as defaults, and one-line errors.
final class ClientCommandLineTests: PushSuite {
    override class var pluginKind: ConformancePlugin? { .c }

    override func makeSurface() throws -> PushSurface {
        CommandLinePushSurface(register: cluster.registerAddress, secretKey: Self.secretKey)
    }

    func testSendsReachTheirClientsOnBothGateways() throws { try checkSendsReachTheirClientsOnBothGateways() }
    func testUIDFunctions() throws { try checkUIDFunctions() }
    func testGroupFunctions() throws { try checkGroupFunctions() }
    func testSessionFunctions() throws { try checkSessionFunctions() }
    func testClientFunctions() throws { try checkClientFunctions() }

    private func client(_ arguments: [String]) throws -> CommandResult {
        try GatewaydProcess.run(["client"] + arguments, timeout: .seconds(30))
    }

    func testAWrongSecretKeyIsRefused() throws {
        for function in [["get-all-client-id-count"], ["send-to-all", "nobody gets this"]] {
            let result = try client(function + ["--register", cluster.registerAddress, "--secret-key", "wrong"])
            XCTAssertNotEqual(result.exitCode, 0, "\(result)")
            XCTAssertEqual(result.errorLines.count, 1, "\(result)")
            XCTAssertTrue(result.errorLines.first?.contains("no register answered") ?? false, "\(result)")
            XCTAssertEqual(result.stdout, "")
        }
    }

    func testTheNextRegisterIsUsedWhenTheFirstIsDown() throws {
        let dead = "127.0.0.1:\(try TCPTestSocket.unusedPort())"
        let connected = try connectClient()
        let id = try clientID(of: connected)
        let result = try client(["is-online", id, "--register", "\(dead),\(cluster.registerAddress)", "--secret-key", Self.secretKey])
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        XCTAssertEqual(result.stdout, "{\"result\":true}\n")

        let allDead = try client(["is-online", id, "--register", dead, "--timeout", "2"])
        XCTAssertEqual(allDead.exitCode, 1)
        XCTAssertTrue(allDead.errorLines.first?.contains(dead) ?? false, "the error names the register: \(allDead)")
    }

    func testTheRunningClustersRegisterAndSecretAreTheDefaults() throws {
        let connected = try connectClient()
        let id = try clientID(of: connected)
        let message = unique("defaults")
        let sent = try client(["send-to-client", id, message, "--run-dir", cluster.runDirectory])
        XCTAssertEqual(sent.exitCode, 0, "\(sent)")
        try connected.expectText(message)
    }

    /// GatewayWorker's names (`sendToUid`) and snake_case work like the kebab-case names.
    func testGatewayWorkerNamesAreAliases() throws {
        let options = ["--register", cluster.registerAddress, "--secret-key", Self.secretKey]
        let connected = try connectClient()
        let id = try clientID(of: connected)
        let uid = unique("alias")
        XCTAssertEqual(try client(["bindUid", id, uid] + options).exitCode, 0)
        let online = try client(["isUidOnline", uid] + options)
        XCTAssertEqual(online.stdout, "{\"result\":true}\n", "\(online)")
        let ids = try client(["getClientIdByUid", uid] + options)
        XCTAssertEqual(ids.stdout, "{\"result\":[\"\(id)\"]}\n", "\(ids)")
        for name in ["sendToUid", "send_to_uid"] {
            let message = unique(name)
            let sent = try client([name, uid, message] + options)
            XCTAssertEqual(sent.exitCode, 0, "\(sent)")
            try connected.expectText(message)
        }

        // Every function --help lists answers to its camelCase name, derived here as GatewayWorker
        // writes them (get-client-id-by-uid -> getClientIdByUid), which the listing also shows.
        let help = try client(["--help"])
        let listing = help.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        // "  send-to-all, sendToAll, send_to_all   Send a message…" (continuation lines are indented deeper).
        let rows = listing.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isLowercase == true }
        let names = rows.map { $0.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0].components(separatedBy: ", ") }
        XCTAssertEqual(names.count, 36, "\(help)")
        for row in names {
            let function = row[0]
            let words = function.split(separator: "-")
            let camel = String(words[0]) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            XCTAssertTrue(row.contains(camel), "--help lists \(row) for \(function)")
            let result = try client([camel, "--help"])
            XCTAssertEqual(result.exitCode, 0, "\(result)")
            XCTAssertTrue(result.stdout.contains("gatewayd client \(function)"), "\(camel): \(result)")
        }
    }

    func testBadArgumentsFailWithOneLine() throws {
        let options = ["--register", cluster.registerAddress, "--secret-key", Self.secretKey]
        let cases: [([String], String)] = [
            (["is-online", "not-a-client-id"], "invalid client id 'not-a-client-id'"),
            (["send-to-uid", "only-a-uid"], "send-to-uid takes <uid>... <message>, got 1 argument(s)"),
            (["get-all-uid-count", "extra"], "get-all-uid-count takes no arguments, got 1 argument(s)"),
            (["set-session", "7f0000010b5400000001", "{not json"], "'session' is not JSON"),
            (["is-online", "7f0000010b5400000001", "--exclude", "7f0000010b5400000001"], "is-online has no option --exclude"),
            (["get-all-uid-count", "--register", "nowhere"], "invalid --register"),
            // Not a function: named as such (before: "Unknown option '--run-dir'").
            (["sendToEveryone", "hi", "--run-dir", cluster.runDirectory], "unknown function 'sendToEveryone'; the functions are send-to-all,"),
            (["--run-dir", cluster.runDirectory, "send-to-all", "hi"], "name the function before the options (--run-dir)"),
        ]
        for (arguments, expected) in cases {
            let result = try client(arguments + (arguments.contains("--register") ? [] : options))
            XCTAssertEqual(result.exitCode, 1, "\(result)")
            XCTAssertEqual(result.errorLines.count, 1, "\(result)")
            XCTAssertTrue(result.errorLines.first?.contains(expected) ?? false, "expected '\(expected)': \(result)")
        }
    }
}
