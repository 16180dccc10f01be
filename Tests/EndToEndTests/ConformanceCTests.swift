import XCTest

/// The conformance suite against plugins/conformance-c, on one cluster of 2 gateways and 2 workers.
///
/// Every test is restated because Linux's test discovery only finds test methods declared in the
/// class itself; a test added to `ConformanceSuite` must be added here and in the other subclass.
final class ConformanceCTests: ConformanceSuite {
    override class var pluginKind: ConformancePlugin? { .c }

    override func testEchoText() throws { try super.testEchoText() }
    override func testEchoUTF8() throws { try super.testEchoUTF8() }
    override func testEchoLargeMessage() throws { try super.testEchoLargeMessage() }
    override func testEchoFragmentedMessage() throws { try super.testEchoFragmentedMessage() }
    override func testSendToAllReachesEveryClientOnBothGateways() throws { try super.testSendToAllReachesEveryClientOnBothGateways() }
    override func testGroupReachesMembersOnlyAndLeaveRemoves() throws { try super.testGroupReachesMembersOnlyAndLeaveRemoves() }
    override func testClientIDIsTwentyLowercaseHex() throws { try super.testClientIDIsTwentyLowercaseHex() }
    override func testCountEqualsOpenClients() throws { try super.testCountEqualsOpenClients() }
    override func testVersionNamesPluginVersionAndWorkerPID() throws { try super.testVersionNamesPluginVersionAndWorkerPID() }
    override func testSendToUidReachesEveryBoundClient() throws { try super.testSendToUidReachesEveryBoundClient() }
    override func testSendToClientAcrossGateways() throws { try super.testSendToClientAcrossGateways() }
    override func testOnlineIsOneForLiveClientAndZeroAfterClose() throws { try super.testOnlineIsOneForLiveClientAndZeroAfterClose() }
    override func testSessionUpdateIsDeliveredWithLaterEvents() throws { try super.testSessionUpdateIsDeliveredWithLaterEvents() }
    override func testKickClosesTheConnection() throws { try super.testKickClosesTheConnection() }
    override func testHandshakeWithRejectIsRefusedWith403() throws { try super.testHandshakeWithRejectIsRefusedWith403() }
    override func testSleepBlocksThenAnswers() throws { try super.testSleepBlocksThenAnswers() }
    override func testCrashReplacesTheWorkerAndKeepsTheClient() throws { try super.testCrashReplacesTheWorkerAndKeepsTheClient() }
    override func testRawEchoReturnsTextAsTextAndBinaryAsBinary() throws { try super.testRawEchoReturnsTextAsTextAndBinaryAsBinary() }
    override func testRawEchoReassemblesFragments() throws { try super.testRawEchoReassemblesFragments() }
    override func testPingIsAnsweredWithPong() throws { try super.testPingIsAnsweredWithPong() }
    override func testClientCloseIsAnsweredWithCloseFrame() throws { try super.testClientCloseIsAnsweredWithCloseFrame() }
    override func testStatusListsEveryProcess() throws { try super.testStatusListsEveryProcess() }
    override func testConnectionsListsAConnectedClient() throws { try super.testConnectionsListsAConnectedClient() }
}
