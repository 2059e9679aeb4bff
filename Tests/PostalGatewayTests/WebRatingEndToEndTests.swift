import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The citizen rates the service on the web page once the result reached them (issue 20's
/// rating "through TrackingService and the public web page"): the same rules as the gRPC call,
/// over real HTTPS to the gateway's web address.
@Suite("Rating on the web page")
struct WebRatingEndToEndTests {
  /// Posts a form (or JSON) to the gateway's web address over HTTPS, trusting the test CA.
  static func post(
    _ gateway: RunningGateway,
    _ path: String,
    form: [String: String]? = nil,
    json: String? = nil
  ) async throws -> (status: Int, body: String) {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(
      try NIOSSLCertificate.fromPEMBytes(Array(TestPKI.shared.ca.certificatePEM.utf8))
    )
    let client = HTTPClient(
      eventLoopGroup: HTTPClient.defaultEventLoopGroup,
      configuration: .init(tlsConfiguration: tls)
    )
    defer { _ = client.shutdown() }
    var request = HTTPClientRequest(
      url: "https://127.0.0.1:\(try #require(gateway.webPort))\(path)"
    )
    request.method = .POST
    if let form {
      request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
      let body = form.map { key, value in
        "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
      }.joined(separator: "&")
      request.body = .bytes(ByteBuffer(string: body))
    } else if let json {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(string: json))
    }
    let response = try await client.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: body))
  }

  @Test(
    "the result page offers the rating once delivered; the rating is taken once, a low mark opens a complaint, a bad field or a second rating is told, and the JSON API agrees"
  )
  func ratingOnThePage() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let (early, delivered, other) = try await gateway.withPartnerClient(TestPKI.shared.staff) {
        counter in
        let early = try await counter.registerPickup(samplePickup())
        return (
          (early.shipment.trackingNumber, early.verificationCode),
          try await RatingEndToEndTests.delivered(counter, keys: keys),
          try await RatingEndToEndTests.delivered(counter, keys: keys)
        )
      }
      func credentials(_ number: String, _ code: String) -> [String: String] {
        ["tracking_number": number, "verification_code": code, "lang": "vi"]
      }
      // Not delivered yet: no form, and a rating posted anyway is refused in words.
      let notYet = try await Self.post(gateway, "/tra-cuu", form: credentials(early.0, early.1))
      #expect(notYet.status == 200 && !notYet.body.contains("action=\"/danh-gia\""))
      var early5 = credentials(early.0, early.1)
      early5["overall"] = "5"
      early5["staff_attitude"] = "5"
      early5["trips"] = "1"
      let refused = try await Self.post(gateway, "/danh-gia", form: early5)
      #expect(refused.status == 409 && refused.body.contains("Chỉ đánh giá được sau khi"))

      let page = try await Self.post(
        gateway,
        "/tra-cuu",
        form: credentials(delivered.number, delivered.code)
      )
      #expect(page.body.contains("action=\"/danh-gia\"") && page.body.contains("Gửi đánh giá"))

      var missing = credentials(delivered.number, delivered.code)
      missing["staff_attitude"] = "4"
      let bad = try await Self.post(gateway, "/danh-gia", form: missing)
      #expect(bad.status == 400 && bad.body.contains("Mức độ hài lòng chung không hợp lệ"))

      var low = credentials(delivered.number, delivered.code)
      low.merge([
        "overall": "2", "staff_attitude": "4", "trips": "2", "on_time": "1",
        "comment": "Phải đi hai lần",
      ]) { $1 }
      let rated = try await Self.post(gateway, "/danh-gia", form: low)
      #expect(rated.status == 200 && rated.body.contains("như một khiếu nại"))
      #expect(
        rated.body.contains("Hồ sơ này đã được đánh giá")
          && !rated.body.contains("action=\"/danh-gia\"")
      )
      let stored = try #require(
        try await gateway.gateway.domain.ratings.rating(
          of: TrackingNumber(validating: delivered.number)
        )
      )
      #expect(
        stored.overall == 2 && stored.trips == 2 && stored.onTime
          && stored.comment == "Phải đi hai lần"
      )
      let complaints = try await gateway.gateway.domain.ratings.complaints(limit: 10)
      #expect(complaints.map(\.trackingNumber.rawValue) == [delivered.number])

      let twice = try await Self.post(gateway, "/danh-gia", form: low)
      #expect(twice.status == 409 && twice.body.contains("Hồ sơ này đã được đánh giá"))

      // The JSON API: the same rules, as problem+json.
      let again = try await Self.post(
        gateway,
        "/v1/rate",
        json:
          #"{"trackingNumber": "\#(delivered.number)", "verificationCode": "\#(delivered.code)", "overall": 5, "staffAttitude": 5, "trips": 1}"#
      )
      #expect(again.status == 409 && again.body.contains("đã được đánh giá"))
      let taken = try await Self.post(
        gateway,
        "/v1/rate",
        json:
          #"{"trackingNumber": "\#(other.number)", "verificationCode": "\#(other.code)", "overall": 5, "staffAttitude": 5, "trips": 1, "onTime": true}"#
      )
      #expect(taken.status == 200)
      let answer = try Postalgateway_V1_RateServiceResponse(jsonString: taken.body)
      #expect(!answer.complaintOpened && answer.hasRatedAt)
    }
  }
}
