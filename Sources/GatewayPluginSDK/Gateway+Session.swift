import CGatewayABI

/// Sessions: a map from string keys to values per client, stored on its gateway and delivered
/// with every event of that client.
extension Gateway {
    /// A read view of the current client's session as delivered with this event (and changed by
    /// this callback's own updates). Like the ``Gateway`` it comes from, valid only during the
    /// callback.
    public struct Session {
        let gateway: Gateway

        /// The top-level entry `key` as text (`session_get`): scalars read as text (`"42"`,
        /// `"1"` for true, `""` for false and null), a nested map as JSON; nil when unset.
        public subscript(key: String) -> String? {
            get throws(GatewayError) {
                let api = gateway.api
                let sessionGet = try api.require(\.session_get, "session_get")
                var value = gwd_bytes()
                let status = withBytes(of: key) { sessionGet(gateway.context, $0, $1, &value) }
                if status == GatewayError.Code.notFound.rawValue { return nil }
                try api.check(status)
                return String(copying: value)
            }
        }
    }

    /// The current client's session; read entries with `try gateway.session["key"]`.
    public var session: Session { Session(gateway: self) }

    /// The current client's whole session as a JSON object (`session_json`).
    public var sessionJSON: String {
        get throws(GatewayError) {
            let sessionJSON = try api.require(\.session_json, "session_json")
            var json = gwd_bytes()
            try api.check(sessionJSON(context, &json))
            return String(copying: json)
        }
    }

    /// Any client's session as a JSON object, read from its gateway (`get_session_json`). A
    /// query: it blocks the plugin thread. ``GatewayError/Code/notFound`` when the client is
    /// not online.
    public func sessionJSON(of client: ClientID) throws(GatewayError) -> String {
        let getSessionJSON = try api.require(\.get_session_json, "get_session_json")
        return try api.buffer { out in withClientID(client) { getSessionJSON(context, $0, out) } }
    }

    /// Merges `pairs` into a client's session; nil means the current client (`update_session`).
    public func updateSession(_ pairs: [String: String], of client: ClientID? = nil) throws(GatewayError) {
        let updateSession = try api.require(\.update_session, "update_session")
        try api.check(withClientID(client) { id in withPairs(pairs) { updateSession(context, id, $0, $1) } })
    }

    /// Replaces a client's session with `pairs`; nil means the current client (`set_session`).
    public func setSession(_ pairs: [String: String], of client: ClientID? = nil) throws(GatewayError) {
        let setSession = try api.require(\.set_session, "set_session")
        try api.check(withClientID(client) { id in withPairs(pairs) { setSession(context, id, $0, $1) } })
    }

    /// Merges a JSON object (for nested values) into a client's session, recursively, new values
    /// winning; nil means the current client (`update_session_json`). ``GatewayError/Code/invalidArgument``
    /// if `json` is not a JSON object.
    public func updateSessionJSON(_ json: String, of client: ClientID? = nil) throws(GatewayError) {
        let updateSessionJSON = try api.require(\.update_session_json, "update_session_json")
        try api.check(withClientID(client) { id in withBytes(of: json) { updateSessionJSON(context, id, $0, $1) } })
    }

    /// Replaces a client's session with a JSON object; nil means the current client
    /// (`set_session_json`).
    public func setSessionJSON(_ json: String, of client: ClientID? = nil) throws(GatewayError) {
        let setSessionJSON = try api.require(\.set_session_json, "set_session_json")
        try api.check(withClientID(client) { id in withBytes(of: json) { setSessionJSON(context, id, $0, $1) } })
    }
}

@available(*, unavailable)
extension Gateway.Session: Sendable {}
