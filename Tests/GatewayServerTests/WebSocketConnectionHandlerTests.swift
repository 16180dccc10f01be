import GatewayCore
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import XCTest

@testable import GatewayRuntime
@testable import GatewayServer
