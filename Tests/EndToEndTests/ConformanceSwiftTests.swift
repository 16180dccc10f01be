import XCTest

/// The conformance suite against plugins/conformance-swift, on one cluster of 2 gateways and 2 workers.
///
/// Every test is restated because Linux's test discovery only finds test methods declared in the
/// class itself; a check added to `ConformanceSuite` needs a test here and in the other subclass.
final class ConformanceSwiftTests: ConformanceSuite {
    override class var pluginKind: ConformancePlugin? { .swift }

    func testEchoText() throws { try checkEchoText() }
    func testEchoUTF8() throws { try checkEchoUTF8() }
    func testEchoLargeMessage() throws { try checkEchoLargeMessage() }
    func testEchoFragmentedMessage() throws { try checkEchoFragmentedMessage() }
    func testSendToAllReachesEveryClientOnBothGateways() throws { try checkSendToAllReachesEveryClientOnBothGateways() }
    func testGroupReachesMembersOnlyAndLeaveRemoves() throws { try checkGroupReachesMembersOnlyAndLeaveRemoves() }
    func testClientIDIsTwentyLowercaseHex() throws { try checkClientIDIsTwentyLowercaseHex() }
    func testCountEqualsOpenClients() throws { try checkCountEqualsOpenClients() }
    func testVersionNamesPluginVersionAndWorkerPID() throws { try checkVersionNamesPluginVersionAndWorkerPID() }
    func testSendToUidReachesEveryBoundClient() throws { try checkSendToUidReachesEveryBoundClient() }
    func testSendToClientAcrossGateways() throws { try checkSendToClientAcrossGateways() }
    func testOnlineIsOneForLiveClientAndZeroAfterClose() throws { try checkOnlineIsOneForLiveClientAndZeroAfterClose() }
    func testSessionUpdateIsDeliveredWithLaterEvents() throws { try checkSessionUpdateIsDeliveredWithLaterEvents() }
    func testKickClosesTheConnection() throws { try checkKickClosesTheConnection() }
    func testHandshakeWithRejectIsRefusedWith403() throws { try checkHandshakeWithRejectIsRefusedWith403() }
    func testSleepBlocksThenAnswers() throws { try checkSleepBlocksThenAnswers() }
    func testCrashReplacesTheWorkerAndKeepsTheClient() throws { try checkCrashReplacesTheWorkerAndKeepsTheClient() }
    func testTickPushesEveryTickThenStops() throws { try checkTickPushesEveryTickThenStops() }
    func testPostRunsOnThePluginThread() throws { try checkPostRunsOnThePluginThread() }
    func testTypedEventsReachTheirHandlers() throws { try checkTypedEventsReachTheirHandlers() }
    func testBadEventArgumentsGetErrorFrames() throws { try checkBadEventArgumentsGetErrorFrames() }
    func testRawEchoReturnsTextAsTextAndBinaryAsBinary() throws { try checkRawEchoReturnsTextAsTextAndBinaryAsBinary() }
    func testRawEchoReassemblesFragments() throws { try checkRawEchoReassemblesFragments() }
    func testPingIsAnsweredWithPong() throws { try checkPingIsAnsweredWithPong() }
    func testClientCloseIsAnsweredWithCloseFrame() throws { try checkClientCloseIsAnsweredWithCloseFrame() }
    func testStatusListsEveryProcess() throws { try checkStatusListsEveryProcess() }
    func testConnectionsListsAConnectedClient() throws { try checkConnectionsListsAConnectedClient() }
}
