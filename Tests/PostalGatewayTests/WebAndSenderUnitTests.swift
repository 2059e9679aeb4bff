import Foundation
import HTTPTypes
import Testing
import Tracking

@testable import PostalGateway

@Suite("Web forms, problems and webhook signatures")
struct WebAndSenderUnitTests {
  @Test("a webhook is signed as the Standard Webhooks test vector says")
  func standardWebhooksVector() throws {
    let secret = try #require(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    let signature = WebhookSender.signature(
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: "1614265330",
      body: Data(#"{"test": 2432232314}"#.utf8),
      secret: Array(secret)
    )
    #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
  }

  @Test("a secrets file holds whsec_ secrets; a bad line is refused by its number, not its text")
  func secretsFile() throws {
    let path = (temporaryDirectory() as NSString).appendingPathComponent("s")
    try "# comment\n\nwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n".write(
      toFile: path,
      atomically: true,
      encoding: .utf8
    )
    #expect(try WebhookSender.secrets(in: path).count == 1)
    try "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nnot-a-secret\n".write(
      toFile: path,
      atomically: true,
      encoding: .utf8
    )
    do {
      _ = try WebhookSender.secrets(in: path)
      Issue.record("a bad line is refused")
    } catch let error as ConfigurationError {
      #expect(error.description.contains("line 2") && !error.description.contains("not-a-secret"))
    }
  }

  @Test(
    "form bodies decode as browsers encode them",
    arguments: [
      ("a=1&b=x+y", ["a": "1", "b": "x y"]),
      ("name=Nguy%E1%BB%85n+V%C4%83n&empty=", ["name": "Nguyễn Văn", "empty": ""]),
      ("broken=%E&x=%zz", ["broken": "%E", "x": "%zz"]), ("&&", [:]), ("a=1&a=2", ["a": "2"]),
    ]
  )
  func formBodies(body: String, expected: [String: String]) {
    #expect(FormBody.parse(body) == expected)
  }

  @Test(
    "each domain error is one HTTP status with a Vietnamese message",
    arguments: [
      (TrackingError.shipmentNotFound(), 404),
      (TrackingError.invalidField("tracking_number", "bad"), 400),
      (TrackingError(code: .throttled, message: "x", retryAfter: .seconds(600)), 429),
      (TrackingError(code: .failedPrecondition, message: "x"), 409),
      (TrackingError(code: .storageFailure, message: "x"), 503),
      (TrackingError(code: .resourceLimit, message: "x"), 413),
    ]
  )
  func problems(error: TrackingError, status: Int) {
    let problem = WebProblem(error, text: WebText(language: .vietnamese))
    #expect(problem.status.code == status)
    #expect(!problem.detail.isEmpty)
    if status == 429 {
      #expect(problem.retryAfterSeconds == 600 && problem.detail.contains("10 phút"))
    }
    if status == 400 { #expect(problem.field == "tracking_number") }
  }

  @Test("a page escapes what it shows")
  func escaping() {
    #expect("<b a=\"x\">&'".html == "&lt;b a=&quot;x&quot;&gt;&amp;&#39;")
  }
}
