import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Chromium (Debian's `chromium`) headless, driven through the DevTools protocol: pages are
/// opened, evaluated in and photographed as a user's browser would show them.
///
/// Every process it starts — the browser, its zygotes, renderers and GPU process, and the crash
/// handlers, which leave the browser's process group — names the browser's own temporary
/// directory in its command line (the profile is in it, and it is the browser's `HOME`), so
/// `close()` finds and kills every one of them, and fails the test if any survives.
final class HeadlessChromium {
    /// `$CHROMIUM`, else the first of chromium, chromium-browser, google-chrome on the PATH.
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["CHROMIUM"], !chosen.isEmpty { return chosen }
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    /// Why browser tests cannot run here, or nil when they can.
    static var missing: String? {
        guard let executable else { return "chromium is not installed (apt-get install chromium; .ci/run installs it)" }
        return FileManager.default.isExecutableFile(atPath: executable) ? nil : "CHROMIUM=\(executable) is not an executable file"
    }

    /// The browser's temporary directory: `HOME`, `profile/`, `stderr.log`.
    let directory: String
    let devtools: DevToolsConnection
    private let process: ChildProcess
    private var closed = false

    private init(directory: String, process: ChildProcess, devtools: DevToolsConnection) {
        self.directory = directory
        self.process = process
        self.devtools = devtools
    }

    deinit { try? close() }

    /// Starts the browser and connects to its DevTools endpoint.
    static func launch(timeout: Duration = .seconds(60)) throws -> HeadlessChromium {
        guard let executable else { throw GatewaydFixtureError(missing!) }
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-chromium-")
        let profile = "\(directory)/profile"
        let log = try GatewaydProcess.openForWriting("\(directory)/stderr.log")
        defer { _ = Glibc.close(log) }
        // HOME: the crash handlers keep their database under it, so their command lines name
        // this directory too. Port 0: the browser picks one and writes it to DevToolsActivePort.
        let process = try ChildProcess(
            executable: executable,
            arguments: [
                "--headless=new", "--no-sandbox", "--remote-debugging-port=0", "--user-data-dir=\(profile)", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--mute-audio", "about:blank",
            ],
            stdout: log, stderr: log, environment: ["HOME": directory])
        var port = 0
        var path = ""
        let started = GatewaydProcess.poll(until: {
            let lines = GatewaydProcess.readText("\(profile)/DevToolsActivePort").split(separator: "\n")
            guard lines.count >= 2, let number = Int(lines[0]) else { return !process.isRunning }
            (port, path) = (number, String(lines[1]))
            return true
        }, timeout: timeout)
        guard started, port > 0 else {
            let why = process.isRunning ? "no DevToolsActivePort within \(timeout)" : "it exited (\(process.exitDescription))"
            let stderr = GatewaydProcess.readText("\(directory)/stderr.log").suffix(3000)
            Self.kill(processesNaming: directory, browser: process)
            try? FileManager.default.removeItem(atPath: directory)
            throw GatewaydFixtureError("chromium did not start: \(why)\n--- stderr ---\n\(stderr)")
        }
        do {
            return HeadlessChromium(directory: directory, process: process, devtools: try DevToolsConnection(port: port, path: path))
        } catch {
            Self.kill(processesNaming: directory, browser: process)
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Opens `url` in a new window of `width` × `height` CSS pixels and waits until it loaded.
    func open(_ url: String, name: String, width: Int = 720, height: Int = 520, timeout: Duration = .seconds(30)) throws -> BrowserPage {
        let target = try devtools.call("Target.createTarget", ["url": "about:blank", "newWindow": true])
        guard let targetID = target["targetId"] as? String else { throw GatewaydFixtureError("Target.createTarget: \(target)") }
        let attached = try devtools.call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw GatewaydFixtureError("Target.attachToTarget: \(attached)") }
        let page = BrowserPage(name: name, targetID: targetID, session: session, devtools: devtools)
        try devtools.call(
            "Emulation.setDeviceMetricsOverride",
            ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false], session: session)
        let navigation = try devtools.call("Page.navigate", ["url": url], session: session)
        if let error = navigation["errorText"] as? String { throw GatewaydFixtureError("\(name): loading \(url) failed: \(error)") }
        try page.waitUntil("document.readyState === 'complete'", "\(url) loaded", timeout: timeout)
        return page
    }

    /// One PNG of several screenshots side by side, drawn by the browser itself in a page of
    /// its own (no image code in the tests).
    func sideBySide(_ screenshots: [Data], width: Int, height: Int) throws -> Data {
        let gap = 12
        let page = try open(
            "about:blank", name: "side by side", width: screenshots.count * (width + gap) + gap, height: height + 2 * gap)
        defer { try? page.close() }
        let sources = screenshots.map { "\"data:image/png;base64,\($0.base64EncodedString())\"" }.joined(separator: ",")
        _ = try page.evaluate("""
            (async () => {
              document.documentElement.style.cssText = "margin: 0; background: #c7ccd4";
              document.body.style.cssText = "margin: 0";
              const images = [\(sources)].map((source, k) => {
                const image = new Image(\(width), \(height));
                image.src = source;
                image.style.cssText = `position: absolute; top: \(gap)px; left: ${\(gap) + k * \(width + gap)}px`;
                document.body.append(image);
                return image;
              });
              await Promise.all(images.map((image) => image.decode()));
              return true;
            })()
            """)
        return try page.screenshot()
    }

    /// Closes the browser (Browser.close, then SIGKILL if it lingers), kills any process that
    /// names its directory, and removes the directory. Throws when a process survived.
    func close() throws {
        guard !closed else { return }
        closed = true
        _ = try? devtools.call("Browser.close", timeout: .seconds(5))
        devtools.close()
        if !process.waitForExit(timeout: .seconds(10)) { process.signal(SIGKILL) }
        let survivors = Self.kill(processesNaming: directory, browser: process)
        try? FileManager.default.removeItem(atPath: directory)
        if !survivors.isEmpty { throw GatewaydFixtureError("chromium processes survived SIGKILL: \(survivors)") }
    }

    /// SIGKILLs the browser and every process whose command line names `directory`; returns
    /// those still alive 5 s later.
    @discardableResult
    private static func kill(processesNaming directory: String, browser: ChildProcess) -> [String] {
        browser.signal(SIGKILL)
        _ = browser.waitForExit(timeout: .seconds(10))
        for pid in ProcessTable.pids(commandLineContaining: directory) { Glibc.kill(pid, SIGKILL) }
        GatewaydProcess.poll(until: { ProcessTable.pids(commandLineContaining: directory).isEmpty }, timeout: .seconds(5))
        return ProcessTable.pids(commandLineContaining: directory).map(ProcessTable.describe)
    }
}

/// One page (a target) of ``HeadlessChromium``.
final class BrowserPage {
    let name: String
    let targetID: String
    let session: String
    private let devtools: DevToolsConnection

    init(name: String, targetID: String, session: String, devtools: DevToolsConnection) {
        self.name = name
        self.targetID = targetID
        self.session = session
        self.devtools = devtools
    }

    /// The value of a JavaScript expression in the page (a promise is awaited), as JSON
    /// values come out of JSONSerialization; nil for undefined. Throws the page's exception.
    @discardableResult
    func evaluate(_ expression: String, timeout: Duration = .seconds(30)) throws -> Any? {
        let reply = try devtools.call(
            "Runtime.evaluate", ["expression": expression, "awaitPromise": true, "returnByValue": true],
            session: session, timeout: timeout)
        if let exception = reply["exceptionDetails"] as? [String: Any] {
            let description = (exception["exception"] as? [String: Any])?["description"] ?? exception["text"] ?? exception
            throw GatewaydFixtureError("\(name): \(expression.prefix(200)) threw \(description)")
        }
        return (reply["result"] as? [String: Any])?["value"]
    }

    /// The expression's value as a `T`; throws naming the value when it is something else.
    func value<T>(_ expression: String, as type: T.Type = T.self) throws -> T {
        let value = try evaluate(expression)
        guard let typed = value as? T else { throw GatewaydFixtureError("\(name): \(expression) is \(value ?? "undefined"), not a \(T.self)") }
        return typed
    }

    /// Evaluates `condition` until it is true, or throws at the deadline with what the page
    /// shows then.
    func waitUntil(_ condition: String, _ what: String, timeout: Duration = .seconds(15)) throws {
        var last: Any?
        let held = try GatewaydProcess.poll(until: {
            last = try evaluate(condition)
            return last as? Bool == true
        }, timeout: timeout, interval: .milliseconds(25))
        guard held else {
            let text = (try? evaluate("document.body ? document.body.innerText : ''")) as? String ?? "?"
            throw GatewaydFixtureError(
                "\(name): not \(what) within \(timeout) (\(condition) is \(last ?? "undefined"))\n--- the page shows ---\n\(text.prefix(3000))")
        }
    }

    /// A PNG of the page's viewport.
    func screenshot() throws -> Data {
        try devtools.call("Page.bringToFront", session: session)
        let shot = try devtools.call("Page.captureScreenshot", ["format": "png"], session: session)
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw GatewaydFixtureError("\(name): Page.captureScreenshot returned no image")
        }
        return data
    }

    /// Closes the page, as closing its tab does (its sockets close with it).
    func close() throws {
        try devtools.call("Target.closeTarget", ["targetId": targetID])
    }
}
