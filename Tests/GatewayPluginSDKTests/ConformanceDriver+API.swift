import CGatewayABI
import Foundation
import XCTest

/// The `api:` and `destroy:` rows (plugins/conformance-c/README.md), held to the same replies
/// for the C and the Swift plugin.
extension ConformanceDriver {
    /// The one reply an `api:` call answers with.
    func api(_ call: String) -> String? {
        let replies = send("api:" + call).filter { $0.function == "send_to_current_client" }
        XCTAssertLessThanOrEqual(replies.count, 1, call)
        return replies.first?.data
    }

    /// The host calls an `api:` call made, without its reply.
    func apiCalls(_ call: String) -> [HostCall] {
        send("api:" + call).filter { $0.function != "send_to_current_client" }
    }

    func checkAPISends(file: StaticString = #filePath, line: UInt = #line) {
        let message = "hi there: all"
        XCTAssertEqual(apiCalls("send_to_groups g1,g2 \(clientB),\(clientC) \(message)"),
                       [HostCall(function: "send_to_groups", data: message, bytes: Array(message.utf8),
                                 exclude: [clientB, clientC], list: ["g1", "g2"])],
                       "the message is the rest, spaces included", file: file, line: line)
        XCTAssertEqual(api("send_to_groups g1 - x"), "api:send_to_groups:null", file: file, line: line)
        XCTAssertEqual(apiCalls("send_to_clients \(clientB) x"),
                       [HostCall(function: "send_to_clients", data: "x", bytes: [0x78], list: [clientB])], file: file, line: line)
        XCTAssertEqual(apiCalls("send_to_uids u1,u 2"),
                       [HostCall(function: "send_to_uids", data: "2", bytes: [0x32], list: ["u1", "u"])], file: file, line: line)
        XCTAssertEqual(apiCalls("send_to_all - everyone"),
                       [HostCall(function: "send_to_all", data: "everyone", bytes: Array("everyone".utf8))], file: file, line: line)
        XCTAssertEqual(apiCalls("close_client \(clientB)"), [HostCall(function: "close_client", client: clientB)],
                       "no message: NULL", file: file, line: line)
        XCTAssertEqual(apiCalls("destroy_client \(clientB)"), [HostCall(function: "destroy_client", client: clientB)],
                       file: file, line: line)
        XCTAssertEqual(send("api:destroy_current_client"), [HostCall(function: "destroy_current_client")],
                       "the client is gone: no reply", file: file, line: line)
        XCTAssertEqual(send("destroy:"), [HostCall(function: "destroy_current_client")], file: file, line: line)
        XCTAssertEqual(send("api:close_current_client bye"), [HostCall(function: "close_current_client", data: "bye")],
                       file: file, line: line)
        XCTAssertEqual(apiCalls("set_session - a=1,b=x=y"), [HostCall(function: "set_session", pairs: ["a": "1", "b": "x=y"])],
                       file: file, line: line)
        XCTAssertEqual(apiCalls("update_session_json \(clientB) {\"a\": {\"b\": 1}}"),
                       [HostCall(function: "update_session_json", client: clientB, data: "{\"a\": {\"b\": 1}}")],
                       file: file, line: line)
        XCTAssertEqual(apiCalls("bind_uid \(clientB) u-1"), [HostCall(function: "bind_uid", client: clientB, name: "u-1")],
                       file: file, line: line)
    }

    func checkAPIQueries(file: StaticString = #filePath, line: UInt = #line) {
        fakeHost.lists = ["get_all_client_id_list": [clientA, clientB], "get_uid_list_by_group": ["q\"b\\s\u{1}é"]]
        fakeHost.tables = [
            "get_all_group_uid_list": [("g1", 2, ["ada", "bob"]), ("g2", 0, [])],
            "batch_get_client_count_by_group": [("g1", 3, nil), ("g9", 0, nil)],
            "is_uids_online": [("ada", 1, nil), ("nobody", 0, nil)],
        ]
        fakeHost.counts = ["get_client_count_by_group": 4]
        fakeHost.buffers = ["get_all_client_sessions": #"{"\#(clientA)":{"k":"v"}}"#, "get_uid_by_client_id": "a\"da"]
        fakeHost.session = ["k": "v\n"]
        let expectations: [(String, String)] = [
            ("get_all_client_id_list", #"api:get_all_client_id_list:["\#(clientA)","\#(clientB)"]"#),
            ("get_uid_list_by_group g", #"api:get_uid_list_by_group:["q\"b\\s\u0001é"]"#),
            ("get_all_group_uid_list", #"api:get_all_group_uid_list:{"g1":["ada","bob"],"g2":[]}"#),
            ("batch_get_client_count_by_group g1,g9", #"api:batch_get_client_count_by_group:{"g1":3,"g9":0}"#),
            ("is_uids_online ada,nobody", #"api:is_uids_online:{"ada":true,"nobody":false}"#),
            ("get_client_count_by_group g", "api:get_client_count_by_group:4"),
            ("get_all_client_count", "api:get_all_client_count:17"),
            ("get_all_client_sessions", #"api:get_all_client_sessions:{"\#(clientA)":{"k":"v"}}"#),
            ("get_uid_by_client_id \(clientB)", #"api:get_uid_by_client_id:"a\"da""#),
            ("is_uid_online ada", "api:is_uid_online:false"),
            ("session_get k", #"api:session_get:"v\u000a""#),
            ("session_get missing", "api:session_get:error:GWD_ERR_NOT_FOUND"),
            ("current_client_id", #"api:current_client_id:"\#(clientA)""#),
            ("worker_info", #"api:worker_info:{"index":3,"pid":4242}"#),
        ]
        for (call, expected) in expectations {
            XCTAssertEqual(api(call), expected, call, file: file, line: line)
        }
        XCTAssertEqual(apiCalls("batch_get_client_count_by_group g1,g9").map(\.list), [["g1", "g9"]], file: file, line: line)
        XCTAssertTrue(fakeHost.outstandingBuffers.isEmpty, "results freed", file: file, line: line)
    }

    func checkAPIErrors(file: StaticString = #filePath, line: UInt = #line) {
        let expectations: [(String, String)] = [
            ("no_such_function", "api:no_such_function:error:GWD_ERR_UNSUPPORTED"),
            ("is_online 0123", "api:is_online:error:GWD_ERR_INVALID_ARGUMENT"),
            ("get_all_uid_list extra", "api:get_all_uid_list:error:GWD_ERR_INVALID_ARGUMENT"),
            ("get_client_id_by_uid", "api:get_client_id_by_uid:error:GWD_ERR_INVALID_ARGUMENT"),
            ("send_to_clients \(clientB),bad x", "api:send_to_clients:error:GWD_ERR_INVALID_ARGUMENT"),
            ("set_session - novalue", "api:set_session:error:GWD_ERR_INVALID_ARGUMENT"),
        ]
        for (call, expected) in expectations {
            XCTAssertEqual(api(call), expected, call, file: file, line: line)
        }
        // A partial result: its memory is freed and the status named.
        fakeHost.lists = ["get_all_uid_list": ["ada"]]
        fakeHost.statuses = ["get_all_uid_list": Int32(GWD_ERR_TIMEOUT.rawValue)]
        XCTAssertEqual(api("get_all_uid_list"), "api:get_all_uid_list:error:GWD_ERR_TIMEOUT", file: file, line: line)
        XCTAssertTrue(fakeHost.outstandingBuffers.isEmpty, "a partial result is freed too", file: file, line: line)
        XCTAssertEqual(fakeHost.freedBuffers, 1, file: file, line: line)
        fakeHost.statuses = [:]
    }

    /// On a host whose table ends at ABI 1.0 the plugin still loads; the 1.1 functions answer
    /// UNSUPPORTED without being called.
    static func checkAPIOnAVersion1_0Host(_ library: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let size = MemoryLayout<gwd_host_api>.offset(of: \.destroy_client)!
        let driver = try load(library, table: FakeHostTable.allocate { $0.struct_size = UInt32(size); $0.abi_minor = 0 })
        XCTAssertEqual(driver.api("get_all_uid_list"), "api:get_all_uid_list:error:GWD_ERR_UNSUPPORTED", file: file, line: line)
        XCTAssertEqual(driver.api("get_all_client_count"), "api:get_all_client_count:17", file: file, line: line)
        XCTAssertEqual(driver.send("destroy:").map(\.function), ["log"], "logged as unsupported", file: file, line: line)
    }
}
