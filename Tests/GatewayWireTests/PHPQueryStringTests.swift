import GatewayWire
import XCTest

final class PHPQueryStringTests: XCTestCase {
    private func parse(_ query: String) -> PHPValue {
        .array(PHPQueryString.parse(query))
    }

    func testPlainPairs() {
        XCTAssertEqual(self.parse("token=abc&room=1"), ["token": "abc", "room": "1"])
        XCTAssertEqual(self.parse(""), [:])
        XCTAssertEqual(self.parse("&&a=1&&"), ["a": "1"])
        XCTAssertEqual(self.parse("flag"), ["flag": ""])
        XCTAssertEqual(self.parse("a=1&a=2"), ["a": "2"])
        XCTAssertEqual(self.parse("a=b=c"), ["a": "b=c"])
        XCTAssertEqual(self.parse("=x&b=1"), ["b": "1"])
    }

    func testDecoding() {
        XCTAssertEqual(self.parse("q=a+b%20c%2Bd"), ["q": "a b c+d"])
        XCTAssertEqual(self.parse("name=%E5%BC%A0%E4%B8%89"), ["name": "张三"])
        XCTAssertEqual(self.parse("bad=%zz%4"), ["bad": "%zz%4"])
        XCTAssertEqual(self.parse("%61%62=1"), ["ab": "1"])
        XCTAssertEqual(self.parse("bin=%00%FF"), ["bin": .string([0x00, 0xFF])])
        XCTAssertEqual(PHPQueryString.urlDecode(Array("a%2fb+c%".utf8)), Array("a/b c%".utf8))
    }

    func testNameMangling() {
        XCTAssertEqual(self.parse("a.b=1&c d=2"), ["a_b": "1", "c_d": "2"])
        XCTAssertEqual(self.parse("+a=1"), ["a": "1"])
        XCTAssertEqual(self.parse("a%00b=1"), ["a": "1"])
        XCTAssertEqual(self.parse("a[b.c=1"), ["a_b.c": "1"])
        XCTAssertEqual(self.parse("a[=1"), ["a_": "1"])
        XCTAssertEqual(self.parse("[x]=1"), [:])
        XCTAssertEqual(self.parse("..Host-a=1&__Host-b=2"), ["__Host-b": "2"])
        XCTAssertEqual(self.parse("._Secure-a=1&+__Host-x=2&.Secure-b=3"), ["__Host-x": "2", "_Secure-b": "3"])
    }

    func testNumericKeysAreCoerced() {
        guard case .array(let array) = self.parse("1=a&01=b&-2=c") else { return XCTFail() }
        XCTAssertEqual(array.keys, [.int(1), .string(Array("01".utf8)), .int(-2)])
    }

    func testBrackets() {
        XCTAssertEqual(self.parse("a[]=1&a[]=2"), ["a": ["1", "2"]])
        XCTAssertEqual(self.parse("a[x]=1&a[y][]=2&a[y][]=3"), ["a": ["x": "1", "y": ["2", "3"]]])
        XCTAssertEqual(self.parse("a[ ]=1"), ["a": ["1"]])
        XCTAssertEqual(self.parse("a[ x]=1"), ["a": [" x": "1"]])
        XCTAssertEqual(self.parse("a=1&a[b]=2"), ["a": ["b": "2"]])
        XCTAssertEqual(self.parse("a[b]=1&a=2"), ["a": "2"])
        XCTAssertEqual(self.parse("a[b][c=1"), ["a": ["b": "1"]])
        XCTAssertEqual(self.parse("a[b]x=1"), ["a": ["b": "1"]])
        XCTAssertEqual(self.parse("a[1]=x&a[]=y"), ["a": ["1": "x", "2": "y"]])
    }

    func testLimits() {
        let deep = "a" + String(repeating: "[x]", count: 70) + "=1"
        guard case .array(let array) = self.parse(deep) else { return XCTFail() }
        var level = array["a"]
        var depth = 1
        while case .array(let nested)? = level, let next = nested["x"] {
            level = next
            depth += 1
        }
        XCTAssertEqual(depth, 64)
        XCTAssertEqual(level, .array(PHPArray()))

        let many = (0..<1500).map { "k\($0)=\($0)" }.joined(separator: "&")
        XCTAssertEqual(PHPQueryString.parse(many).count, PHPQueryString.maximumVariables)
    }
}
