import ArgumentParser
import GatewayClient

// One type per `gatewayd client` subcommand, in the order `gatewayd client --help` lists them.

enum SendToAllFunction: ClientFunction { static let function = GatewayFunction.sendToAll }
enum SendToClientFunction: ClientFunction { static let function = GatewayFunction.sendToClient }
enum SendToUIDFunction: ClientFunction { static let function = GatewayFunction.sendToUID }
enum SendToGroupFunction: ClientFunction { static let function = GatewayFunction.sendToGroup }
enum CloseClientFunction: ClientFunction { static let function = GatewayFunction.closeClient }
enum DestroyClientFunction: ClientFunction { static let function = GatewayFunction.destroyClient }
enum BindUIDFunction: ClientFunction { static let function = GatewayFunction.bindUID }
enum UnbindUIDFunction: ClientFunction { static let function = GatewayFunction.unbindUID }
enum JoinGroupFunction: ClientFunction { static let function = GatewayFunction.joinGroup }
enum LeaveGroupFunction: ClientFunction { static let function = GatewayFunction.leaveGroup }
enum UngroupFunction: ClientFunction { static let function = GatewayFunction.ungroup }
enum SetSessionFunction: ClientFunction { static let function = GatewayFunction.setSession }
enum UpdateSessionFunction: ClientFunction { static let function = GatewayFunction.updateSession }
enum GetSessionFunction: ClientFunction { static let function = GatewayFunction.getSession }
enum IsOnlineFunction: ClientFunction { static let function = GatewayFunction.isOnline }
enum IsUIDOnlineFunction: ClientFunction { static let function = GatewayFunction.isUIDOnline }
enum IsUIDsOnlineFunction: ClientFunction { static let function = GatewayFunction.isUIDsOnline }
enum GetClientIDByUIDFunction: ClientFunction { static let function = GatewayFunction.getClientIDByUID }
enum GetUIDByClientIDFunction: ClientFunction { static let function = GatewayFunction.getUIDByClientID }
enum GetClientIDCountByGroupFunction: ClientFunction { static let function = GatewayFunction.getClientIDCountByGroup }
enum GetAllClientIDCountFunction: ClientFunction { static let function = GatewayFunction.getAllClientIDCount }
enum GetClientIDListByGroupFunction: ClientFunction { static let function = GatewayFunction.getClientIDListByGroup }
enum GetAllClientIDListFunction: ClientFunction { static let function = GatewayFunction.getAllClientIDList }
enum GetClientSessionsByGroupFunction: ClientFunction { static let function = GatewayFunction.getClientSessionsByGroup }
enum GetAllClientSessionsFunction: ClientFunction { static let function = GatewayFunction.getAllClientSessions }
enum GetAllGroupIDListFunction: ClientFunction { static let function = GatewayFunction.getAllGroupIDList }
enum GetUIDListByGroupFunction: ClientFunction { static let function = GatewayFunction.getUIDListByGroup }
enum GetUIDCountByGroupFunction: ClientFunction { static let function = GatewayFunction.getUIDCountByGroup }
enum GetAllUIDListFunction: ClientFunction { static let function = GatewayFunction.getAllUIDList }
enum GetAllUIDCountFunction: ClientFunction { static let function = GatewayFunction.getAllUIDCount }
enum GetAllGroupUIDListFunction: ClientFunction { static let function = GatewayFunction.getAllGroupUIDList }
enum GetAllGroupUIDCountFunction: ClientFunction { static let function = GatewayFunction.getAllGroupUIDCount }
enum GetAllGroupClientIDListFunction: ClientFunction { static let function = GatewayFunction.getAllGroupClientIDList }
enum GetAllGroupClientIDCountFunction: ClientFunction { static let function = GatewayFunction.getAllGroupClientIDCount }
enum BatchGetClientIDByUIDFunction: ClientFunction { static let function = GatewayFunction.batchGetClientIDByUID }
enum BatchGetClientIDCountByGroupFunction: ClientFunction { static let function = GatewayFunction.batchGetClientIDCountByGroup }

let clientFunctionCommands: [ParsableCommand.Type] = [
    ClientFunctionCommand<SendToAllFunction>.self,
    ClientFunctionCommand<SendToClientFunction>.self,
    ClientFunctionCommand<SendToUIDFunction>.self,
    ClientFunctionCommand<SendToGroupFunction>.self,
    ClientFunctionCommand<CloseClientFunction>.self,
    ClientFunctionCommand<DestroyClientFunction>.self,
    ClientFunctionCommand<BindUIDFunction>.self,
    ClientFunctionCommand<UnbindUIDFunction>.self,
    ClientFunctionCommand<JoinGroupFunction>.self,
    ClientFunctionCommand<LeaveGroupFunction>.self,
    ClientFunctionCommand<UngroupFunction>.self,
    ClientFunctionCommand<SetSessionFunction>.self,
    ClientFunctionCommand<UpdateSessionFunction>.self,
    ClientFunctionCommand<GetSessionFunction>.self,
    ClientFunctionCommand<IsOnlineFunction>.self,
    ClientFunctionCommand<IsUIDOnlineFunction>.self,
    ClientFunctionCommand<IsUIDsOnlineFunction>.self,
    ClientFunctionCommand<GetClientIDByUIDFunction>.self,
    ClientFunctionCommand<GetUIDByClientIDFunction>.self,
    ClientFunctionCommand<GetClientIDCountByGroupFunction>.self,
    ClientFunctionCommand<GetAllClientIDCountFunction>.self,
    ClientFunctionCommand<GetClientIDListByGroupFunction>.self,
    ClientFunctionCommand<GetAllClientIDListFunction>.self,
    ClientFunctionCommand<GetClientSessionsByGroupFunction>.self,
    ClientFunctionCommand<GetAllClientSessionsFunction>.self,
    ClientFunctionCommand<GetAllGroupIDListFunction>.self,
    ClientFunctionCommand<GetUIDListByGroupFunction>.self,
    ClientFunctionCommand<GetUIDCountByGroupFunction>.self,
    ClientFunctionCommand<GetAllUIDListFunction>.self,
    ClientFunctionCommand<GetAllUIDCountFunction>.self,
    ClientFunctionCommand<GetAllGroupUIDListFunction>.self,
    ClientFunctionCommand<GetAllGroupUIDCountFunction>.self,
    ClientFunctionCommand<GetAllGroupClientIDListFunction>.self,
    ClientFunctionCommand<GetAllGroupClientIDCountFunction>.self,
    ClientFunctionCommand<BatchGetClientIDByUIDFunction>.self,
    ClientFunctionCommand<BatchGetClientIDCountByGroupFunction>.self,
]
