import XCTest

/// The conformance suite against plugins/conformance-c exactly as it was at ABI 1.1, compiled
/// against the frozen 1.1 header (Tests/GatewayWorkerTests/Fixtures): a plugin built for an
/// older minor keeps working unchanged on the 1.2 host. (The 1.2 checks, tick and post, are not
/// declared: that plugin predates them.)
final class ConformanceFrozenABITests: ConformanceSuite {
    override class var pluginKind: ConformancePlugin? { .cABI1_1 }

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
    func testRawEchoReturnsTextAsTextAndBinaryAsBinary() throws { try checkRawEchoReturnsTextAsTextAndBinaryAsBinary() }
    func testRawEchoReassemblesFragments() throws { try checkRawEchoReassemblesFragments() }
    func testPingIsAnsweredWithPong() throws { try checkPingIsAnsweredWithPong() }
    func testClientCloseIsAnsweredWithCloseFrame() throws { try checkClientCloseIsAnsweredWithCloseFrame() }
    func testStatusListsEveryProcess() throws { try checkStatusListsEveryProcess() }
    func testConnectionsListsAConnectedClient() throws { try checkConnectionsListsAConnectedClient() }
}
