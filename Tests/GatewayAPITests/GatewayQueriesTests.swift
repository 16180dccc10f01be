import Foundation
import GatewayWire
import NIOCore
import XCTest

@testable import GatewayAPI

/// The query functions: their requests are the bytes PHP's GatewayClient sends (captured in
/// `../shared/compat`), and answers from several gateways merge as GatewayWorker merges them.
final class GatewayQueriesTests: XCTestCase {
    private let gatewayA = "127.0.0.1:12900"
    private let gatewayB = "10.0.0.2:2901"

    private func id(_ gateway: String, _ connection: UInt32) -> String {
        ClientID(gateway: GatewayAddress(gateway)!, connectionID: connection).description
    }

    private func answer(_ gateway: String, _ serialized: String) throws -> GatewayAnswer {
        GatewayAnswer(gateway: gateway, value: try PHPSerializer.unserialize(Array(serialized.utf8)))
    }

    private func frameBytes<V>(_ query: GatewayQuery<V>, for gateway: String) -> [UInt8] {
        Array(query.dispatch.frame(for: gateway)?.readableBytesView ?? ByteBuffer().readableBytesView)
    }

    // MARK: - Requests equal PHP GatewayClient's captured requests

    func testRequestsAreTheBytesPHPGatewayClientSends() throws {
        let alice = ClientID(gateway: GatewayAddress(gatewayA)!, connectionID: 1)
        let missing = ClientID(gateway: GatewayAddress(gatewayA)!, connectionID: 999)
        let cases: [(String, [UInt8])] = [
            ("G4.is_online.request", frameBytes(GatewayQueries.isOnline(alice), for: gatewayA)),
            ("G4.is_online_missing.request", frameBytes(GatewayQueries.isOnline(missing), for: gatewayA)),
            ("G4.get_all_client_id_count.request", frameBytes(GatewayQueries.clientIDCount(), for: gatewayA)),
            ("G4.get_client_id_count_by_group.request", frameBytes(GatewayQueries.clientIDCount(group: "room1"), for: gatewayA)),
            ("G4.get_all_client_sessions.request", frameBytes(GatewayQueries.allClientSessions(), for: gatewayA)),
            ("G4.get_client_sessions_by_group.request", frameBytes(GatewayQueries.clientSessions(group: "room1"), for: gatewayA)),
            ("G4.get_client_id_by_uid.request", frameBytes(GatewayQueries.clientIDs(uid: "alice"), for: gatewayA)),
            ("G4.get_session.request", frameBytes(GatewayQueries.session(of: alice), for: gatewayA)),
            ("G4.get_all_group_id_list.request", frameBytes(GatewayQueries.allGroupIDs(), for: gatewayA)),
            ("G4.select.all_client_id_list.request", frameBytes(GatewayQueries.allClientIDs(), for: gatewayA)),
            ("G4.select.uid_list_by_group.request", frameBytes(GatewayQueries.uids(group: "room1"), for: gatewayA)),
            ("G4.select.uid_by_client_id.request", frameBytes(GatewayQueries.uid(of: alice), for: gatewayA)),
            ("G4.select.all_group_client_id_list.request", frameBytes(GatewayQueries.allGroupClientIDs(), for: gatewayA)),
            ("G4.batch_get_client_id_by_uid.request", frameBytes(GatewayQueries.clientIDs(uids: ["alice", "bob", "nobody"]), for: gatewayA)),
            ("G4.batch_get_client_id_count_by_group.request",
             frameBytes(GatewayQueries.clientIDCounts(groups: ["room1", "room2", "nogroup"]), for: gatewayA)),
            ("G4.batch_get_client_id_by_uid.numeric_utf8.request", frameBytes(GatewayQueries.clientIDs(uids: ["42", "用户/1"]), for: gatewayA)),
            ("G4.select.uid_by_group.utf8.request", frameBytes(GatewayQueries.uids(group: "房间/1"), for: gatewayA)),
        ]
        for (vector, actual) in cases {
            XCTAssertEqual(Compat.hex(actual), try XCTUnwrap(Compat.vector(vector)?["hex"]?.stringValue), vector)
        }
    }

    func testTargetedQueriesGoOnlyToTheClientsGateway() {
        let client = ClientID(gateway: GatewayAddress(gatewayB)!, connectionID: 7)
        let query = GatewayQueries.isOnline(client)
        XCTAssertEqual(query.dispatch.targets(among: [gatewayA, gatewayB]), [gatewayB])
        XCTAssertNil(query.dispatch.frame(for: gatewayA))
        XCTAssertEqual(GatewayQueries.clientIDCount().dispatch.targets(among: [gatewayA, gatewayB]), [gatewayA, gatewayB])
    }

    // MARK: - Merging answers from two gateways

    func testCountsAreSummed() throws {
        let result = GatewayQueries.clientIDCount().result(from: [try answer(gatewayA, "i:2;"), try answer(gatewayB, "i:3;")], unanswered: [])
        XCTAssertEqual(result.value, 5)
        XCTAssertTrue(result.isComplete)
    }

    func testUnansweredGatewaysAreReportedWithThePartialResult() throws {
        let result = GatewayQueries.clientIDCount().result(from: [try answer(gatewayA, "i:2;")], unanswered: [gatewayB])
        XCTAssertEqual(result.value, 2)
        XCTAssertEqual(result.unanswered, [gatewayB])
        XCTAssertEqual(
            String(decoding: result.gatewayJSON.serialized(), as: UTF8.self), #"{"result":2,"unanswered":["10.0.0.2:2901"]}"#)
    }

    func testClientIDsByUIDAreMergedAcrossGateways() throws {
        let answers = [try answer(gatewayA, "a:1:{i:0;i:1;}"), try answer(gatewayB, "a:2:{i:0;i:4;i:1;i:9;}")]
        XCTAssertEqual(
            GatewayQueries.clientIDs(uid: "alice").result(from: answers, unanswered: []).value,
            [id(gatewayB, 4), id(gatewayB, 9), id(gatewayA, 1)].sorted())
        XCTAssertTrue(GatewayQueries.isUIDOnline("alice").result(from: answers, unanswered: []).value)
        XCTAssertFalse(GatewayQueries.isUIDOnline("x").result(from: [try answer(gatewayA, "a:0:{}")], unanswered: []).value)
    }

    func testSessionsComeBackDecodedPerClient() throws {
        let answers = [
            try answer(gatewayA, #"a:2:{i:1;s:29:"a:1:{s:4:"name";s:5:"alice";}";i:2;s:0:"";}"#),
            try answer(gatewayB, #"a:1:{i:3;s:6:"a:0:{}";}"#),
        ]
        let sessions = GatewayQueries.allClientSessions().result(from: answers, unanswered: []).value
        XCTAssertEqual(sessions[id(gatewayA, 1)], ["name": "alice"])
        XCTAssertEqual(sessions[id(gatewayA, 2)], .array(PHPArray()))
        XCTAssertEqual(sessions[id(gatewayB, 3)], .array(PHPArray()))
        XCTAssertEqual(sessions.count, 3)
    }

    func testSelectRowsGiveClientIDsUIDsAndGroups() throws {
        // The captured scenario-E reply from one gateway, plus a second gateway.
        let answers = [
            try answer(gatewayA, #"a:2:{i:1;a:2:{s:3:"uid";s:2:"42";s:6:"groups";a:2:{i:123;s:3:"123";s:8:"房间/1";s:8:"房间/1";}}i:2;a:2:{s:3:"uid";s:8:"用户/1";s:6:"groups";a:1:{s:8:"房间/1";s:8:"房间/1";}}}"#),
            try answer(gatewayB, #"a:2:{i:5;a:2:{s:3:"uid";s:2:"42";s:6:"groups";a:1:{i:123;s:3:"123";}}i:6;a:2:{s:3:"uid";N;s:6:"groups";a:1:{i:123;s:3:"123";}}}"#),
        ]
        XCTAssertEqual(
            GatewayQueries.allClientIDs().result(from: answers, unanswered: []).value,
            [id(gatewayA, 1), id(gatewayA, 2), id(gatewayB, 5), id(gatewayB, 6)].sorted())
        XCTAssertEqual(GatewayQueries.allUIDs().result(from: answers, unanswered: []).value, ["42", "用户/1"])
        XCTAssertEqual(GatewayQueries.allUIDCount().result(from: answers, unanswered: []).value, 2)
        XCTAssertEqual(
            GatewayQueries.allGroupUIDs().result(from: answers, unanswered: []).value, ["123": ["42"], "房间/1": ["42", "用户/1"]])
        XCTAssertEqual(GatewayQueries.allGroupUIDCounts().result(from: answers, unanswered: []).value, ["123": 1, "房间/1": 2])
        XCTAssertEqual(
            GatewayQueries.allGroupClientIDs().result(from: answers, unanswered: []).value,
            ["123": [id(gatewayA, 1), id(gatewayB, 5), id(gatewayB, 6)].sorted(), "房间/1": [id(gatewayA, 1), id(gatewayA, 2)]])
        XCTAssertEqual(GatewayQueries.allGroupClientIDCounts().result(from: answers, unanswered: []).value, ["123": 3, "房间/1": 2])
    }

    func testUIDByClientIDReadsTheRowOfThatClient() throws {
        let alice = ClientID(gateway: GatewayAddress(gatewayA)!, connectionID: 1)
        let query = GatewayQueries.uid(of: alice)
        XCTAssertEqual(query.result(from: [try answer(gatewayA, #"a:1:{i:1;a:1:{s:3:"uid";s:5:"alice";}}"#)], unanswered: []).value, "alice")
        XCTAssertNil(query.result(from: [try answer(gatewayA, "a:0:{}")], unanswered: []).value)
        XCTAssertNil(query.result(from: [try answer(gatewayA, #"a:1:{i:1;a:1:{s:3:"uid";N;}}"#)], unanswered: []).value)
    }

    func testBatchQueriesListEveryNameAskedAndSumAcrossGateways() throws {
        let byUID = GatewayQueries.clientIDs(uids: ["42", "nobody"]).result(
            from: [try answer(gatewayA, "a:2:{i:42;a:1:{i:0;i:1;}s:6:\"nobody\";a:0:{}}"), try answer(gatewayB, "a:1:{i:42;a:1:{i:0;i:3;}}")],
            unanswered: []
        ).value
        XCTAssertEqual(byUID, ["42": [id(gatewayA, 1), id(gatewayB, 3)].sorted(), "nobody": []])
        let online = GatewayQueries.areUIDsOnline(["42", "nobody"]).result(
            from: [try answer(gatewayA, "a:2:{i:42;a:1:{i:0;i:1;}s:6:\"nobody\";a:0:{}}")], unanswered: []
        ).value
        XCTAssertEqual(online, ["42": true, "nobody": false])
        let counts = GatewayQueries.clientIDCounts(groups: ["123", "none"]).result(
            from: [try answer(gatewayA, "a:2:{i:123;i:1;s:4:\"none\";i:0;}"), try answer(gatewayB, "a:1:{i:123;i:2;}")], unanswered: []
        ).value
        XCTAssertEqual(counts, ["123": 3, "none": 0])
    }

    /// PHP's batch functions take any array; a name asked twice must not trap the merge.
    func testBatchQueriesAskedForANameTwiceListItOnce() throws {
        let ids = GatewayQueries.clientIDs(uids: ["ada", "ada"]).result(
            from: [try answer(gatewayA, "a:1:{s:3:\"ada\";a:1:{i:0;i:3;}}")], unanswered: []
        ).value
        XCTAssertEqual(ids, ["ada": [id(gatewayA, 3)]])
        let counts = GatewayQueries.clientIDCounts(groups: ["g", "g"]).result(
            from: [try answer(gatewayA, "a:1:{s:1:\"g\";i:2;}")], unanswered: []
        ).value
        XCTAssertEqual(counts, ["g": 2])
    }

    func testGroupIDListIsTheUnionAsText() throws {
        let answers = [try answer(gatewayA, #"a:2:{i:0;i:123;i:1;s:8:"房间/1";}"#), try answer(gatewayB, #"a:1:{i:0;s:5:"room1";}"#)]
        XCTAssertEqual(GatewayQueries.allGroupIDs().result(from: answers, unanswered: []).value, ["123", "room1", "房间/1"])
    }

    func testSessionOfAnOfflineClientIsNil() throws {
        let client = ClientID(gateway: GatewayAddress(gatewayA)!, connectionID: 999)
        XCTAssertNil(GatewayQueries.session(of: client).result(from: [try answer(gatewayA, "N;")], unanswered: []).value)
        XCTAssertEqual(
            GatewayQueries.session(of: client).result(from: [try answer(gatewayA, "a:0:{}")], unanswered: []).value, .array(PHPArray()))
    }
}

/// The captured vectors, read from GatewayWireTests' copy of `../shared/compat`.
enum Compat {
    static let vectors: [JSONValue] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../GatewayWireTests/Fixtures/vectors.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONValue.parse(Array(data)) else {
            fatalError("cannot read \(url.path)")
        }
        return json["vectors"]?.arrayValue ?? []
    }()

    static func vector(_ id: String) -> JSONValue? {
        vectors.first { $0["id"]?.stringValue == id }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
