import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Proto
import SwiftProtobuf
import Tracking

/// A request's context: the caller's address, which the tracking throttle counts attempts by
/// (the same key as on the gRPC public listener).
struct WebContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  /// `ipv4:203.0.113.7` or `ipv6:[2001:db8::1]`, without the port.
  let client: String

  init(source: ApplicationRequestContextSource) {
    self.coreContext = .init(source: source)
    self.client = WebContext.client(source.channel.remoteAddress)
  }

  static func client(_ address: SocketAddress?) -> String {
    switch address {
    case .v4(let v4)?: "ipv4:\(v4.host)"
    case .v6(let v6)?: "ipv6:[\(v6.host)]"
    default: "unknown"
    }
  }
}

/// The citizens' web page and its JSON API: the same ``CitizenDesk`` as the gRPC
/// `TrackingService`, so the page, the API and `TrackShipment` show the same view and share the
/// throttle.
///
/// - `GET /` the form (`?lang=en` in English); `POST /tra-cuu` the result; `POST /bien-nhan` the
///   receipt as a file; `POST /thong-bao` the notification choice; `GET /xac-minh` how to check
///   a receipt; `GET /static/site.css`.
/// - `POST /v1/track`, `POST /v1/receipt`, `POST /v1/notification-channel`: JSON in and out
///   (proto3 JSON of the wire messages), errors as `application/problem+json`;
///   `GET /openapi.json` describes them.
struct CitizenWeb: Sendable {
  let desk: CitizenDesk
  let verifierKey: String
  let assets: WebAssets
  let logger: Logger

  /// The largest form or JSON body taken.
  static let maximumBodyBytes = 16 * 1024

  /// How JSON answers are written: the proto3 JSON mapping (lowerCamelCase names, enums by
  /// name, 64-bit integers as strings, fields at their default value left out), as any
  /// protobuf library reads and writes it.
  static var jsonOptions: JSONEncodingOptions { JSONEncodingOptions() }

  func router() -> Router<WebContext> {
    let router = Router(context: WebContext.self)
    router.add(middleware: SecurityHeadersMiddleware(assets: self.assets))
    router.get("/") { request, _ in
      let text = WebText(language: Self.language(request.uri.queryParameters["lang"]))
      return Self.html(CitizenPages(text: text).form())
    }
    router.post("/tra-cuu") { request, context in
      try await self.trackPage(request, context)
    }
    router.post("/bien-nhan") { request, context in
      try await self.receiptFile(request, context)
    }
    router.post("/thong-bao") { request, context in
      try await self.notificationPage(request, context)
    }
    router.post("/danh-gia") { request, context in
      try await self.ratingPage(request, context)
    }
    router.get("/xac-minh") { request, _ in
      let text = WebText(language: Self.language(request.uri.queryParameters["lang"]))
      return Self.html(CitizenPages(text: text).verification(verifierKey: self.verifierKey))
    }
    router.get("/static/site.css") { _, _ in
      Response(
        status: .ok,
        headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
        body: .init(byteBuffer: ByteBuffer(bytes: self.assets.stylesheet))
      )
    }
    router.get("/openapi.json") { _, _ in
      Response(
        status: .ok,
        headers: [.contentType: "application/json", .cacheControl: "public, max-age=3600"],
        body: .init(byteBuffer: ByteBuffer(bytes: self.assets.openAPI))
      )
    }
    router.post("/v1/track") { request, context in
      try await self.api(request, context, as: Postalgateway_V1_TrackShipmentRequest.self) {
        message,
        text in
        try await self.desk.track(
          CitizenRequest(
            trackingNumber: message.trackingNumber,
            verificationCode: message.verificationCode
          ),
          language: message.language,
          client: context.client
        )
      }
    }
    router.post("/v1/receipt") { request, context in
      try await self.api(request, context, as: Postalgateway_V1_GetReceiptRequest.self) {
        message,
        _ in
        try await self.desk.receipt(
          CitizenRequest(
            trackingNumber: message.trackingNumber,
            verificationCode: message.verificationCode
          ),
          client: context.client
        )
      }
    }
    router.post("/v1/rate") { request, context in
      try await self.api(request, context, as: Postalgateway_V1_RateServiceRequest.self) {
        message,
        _ in
        let (rating, complaint) = try await self.desk.rate(message, client: context.client)
        return Postalgateway_V1_RateServiceResponse.with {
          $0.ratedAt = rating.ratedAt.proto
          $0.complaintOpened = complaint
        }
      }
    }
    router.post("/v1/notification-channel") { request, context in
      try await self.api(request, context, as: Postalgateway_V1_CitizenNotificationRequest.self) {
        message,
        _ in
        Postalgateway_V1_NotificationConsent(
          try await self.desk.changeNotificationChannel(
            CitizenRequest(
              trackingNumber: message.trackingNumber,
              verificationCode: message.verificationCode
            ),
            to: message.channel,
            client: context.client
          )
        )
      }
    }
    return router
  }

  // MARK: The page

  private func trackPage(_ request: Request, _ context: WebContext) async throws -> Response {
    let form = try await Self.form(request)
    let text = WebText(language: Self.language(form["lang"]))
    let credentials = Self.credentials(form)
    do {
      return try await self.resultPage(credentials, text: text, context: context)
    } catch {
      return self.formError(error, number: credentials.trackingNumber, text: text)
    }
  }

  /// The result page for a tracking number and its code, with what was just done (or refused)
  /// above it. One place for the three forms that end on it.
  private func resultPage(
    _ credentials: CitizenRequest,
    text: WebText,
    context: WebContext,
    notice: String? = nil,
    refusal: WebProblem? = nil
  ) async throws -> Response {
    let tracked = try await self.desk.track(
      credentials,
      language: text.code,
      client: context.client
    )
    return Self.html(
      CitizenPages(text: text).result(
        tracked.shipment,
        code: credentials.verificationCode,
        channels: self.desk.offeredChannels,
        rating: try await self.ratingState(tracked.shipment),
        notice: notice,
        error: refusal?.pageError
      ),
      status: refusal?.status ?? .ok,
      personal: true
    )
  }

  private func notificationPage(
    _ request: Request,
    _ context: WebContext
  ) async throws
    -> Response
  {
    let form = try await Self.form(request)
    let text = WebText(language: Self.language(form["lang"]))
    let credentials = Self.credentials(form)
    let channel =
      NotificationChannel(rawValue: form["channel"] ?? "").map(\.proto) ?? .unspecified
    do {
      let consent = try await self.desk.changeNotificationChannel(
        credentials,
        to: channel,
        client: context.client
      )
      return try await self.resultPage(
        credentials,
        text: text,
        context: context,
        notice: text.saved(consent.channel)
      )
    } catch {
      return self.formError(error, number: credentials.trackingNumber, text: text)
    }
  }

  private func ratingPage(_ request: Request, _ context: WebContext) async throws -> Response {
    let form = try await Self.form(request)
    let text = WebText(language: Self.language(form["lang"]))
    let credentials = Self.credentials(form)
    var rating = Postalgateway_V1_RateServiceRequest()
    rating.trackingNumber = credentials.trackingNumber
    rating.verificationCode = credentials.verificationCode
    // A missing or unreadable mark is 0 (trips -1): the domain names the field.
    rating.overall = Int32(form["overall"] ?? "") ?? 0
    rating.staffAttitude = Int32(form["staff_attitude"] ?? "") ?? 0
    rating.trips = Int32(form["trips"] ?? "") ?? -1
    rating.onTime = form["on_time"] != nil
    rating.extraCostsAsked = form["extra_costs"] != nil
    rating.complaint = form["complaint"] != nil
    rating.comment = form["comment"] ?? ""
    var notice: String?
    var refusal: WebProblem?
    do {
      let (_, complaint) = try await self.desk.rate(rating, client: context.client)
      notice = complaint ? text.complaintOpened : text.rated
    } catch let error as TrackingError
      where [.invalidArgument, .failedPrecondition, .duplicate].contains(error.code)
    {
      refusal = WebProblem(error, text: text, action: .rate)
    } catch {
      return self.formError(error, number: credentials.trackingNumber, text: text)
    }
    do {
      return try await self.resultPage(
        credentials,
        text: text,
        context: context,
        notice: notice,
        refusal: refusal
      )
    } catch {
      return self.formError(error, number: credentials.trackingNumber, text: text)
    }
  }

  /// Whether the result page offers the rating form.
  private func ratingState(
    _ shipment: Postalgateway_V1_TrackedShipment
  ) async throws -> CitizenPages.RatingState {
    guard [.delivered, .returnedToApplicant].contains(shipment.state) else { return .notYet }
    return try await self.desk.rating(of: shipment.trackingNumber) == nil ? .open : .done
  }

  private func receiptFile(_ request: Request, _ context: WebContext) async throws -> Response {
    let form = try await Self.form(request)
    let text = WebText(language: Self.language(form["lang"]))
    let credentials = Self.credentials(form)
    do {
      let receipt = try await self.desk.receipt(credentials, client: context.client)
      let data = try receipt.jsonUTF8Data(options: Self.jsonOptions)
      return Response(
        status: .ok,
        headers: [
          .contentType: "application/json",
          .contentDisposition:
            "attachment; filename=\"bien-nhan-\(receipt.trackingNumber).json\"",
          .cacheControl: "no-store",
        ],
        body: .init(byteBuffer: ByteBuffer(bytes: data))
      )
    } catch {
      return self.formError(error, number: credentials.trackingNumber, text: text)
    }
  }

  private func formError(_ error: any Error, number: String, text: WebText) -> Response {
    let problem = WebProblem(error, text: text)
    if problem.status == .serviceUnavailable || problem.status == .internalServerError {
      self.logger.error("citizen page failed", metadata: ["error": "\(error)"])
    }
    var response = Self.html(
      CitizenPages(text: text).form(number: number, error: problem.pageError),
      status: problem.status,
      personal: true
    )
    if let seconds = problem.retryAfterSeconds {
      response.headers[.retryAfter] = String(seconds)
    }
    return response
  }

  // MARK: The JSON API

  private func api<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
    _ request: Request,
    _ context: WebContext,
    as input: Input.Type,
    _ body: (Input, WebText) async throws -> Output
  ) async throws -> Response {
    var text = WebText(language: .vietnamese)
    do {
      guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
      else {
        return Self.problem(
          WebProblem(
            status: .unsupportedMediaType,
            title: "Content-Type",
            detail: "Gửi nội dung JSON (Content-Type: application/json)."
          )
        )
      }
      let buffer = try await Self.body(request)
      let message: Input
      do {
        message = try Input(jsonUTF8Bytes: Array(buffer.readableBytesView))
      } catch {
        return Self.problem(
          WebProblem(
            status: .badRequest,
            title: "Yêu cầu không hợp lệ",
            detail: "Nội dung không phải JSON đúng định dạng của yêu cầu."
          )
        )
      }
      if let tracking = message as? Postalgateway_V1_TrackShipmentRequest {
        text = WebText(language: (try? CitizenLanguage(code: tracking.language)) ?? .vietnamese)
      }
      let output = try await body(message, text)
      return Response(
        status: .ok,
        headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: .init(
          byteBuffer: ByteBuffer(bytes: try output.jsonUTF8Data(options: Self.jsonOptions))
        )
      )
    } catch {
      let problem = WebProblem(error, text: text)
      if problem.status == .serviceUnavailable || problem.status == .internalServerError {
        self.logger.error("citizen API failed", metadata: ["error": "\(error)"])
      }
      return Self.problem(problem)
    }
  }

  static func problem(_ problem: WebProblem) -> Response {
    var headers: HTTPFields = [
      .contentType: "application/problem+json", .cacheControl: "no-store",
    ]
    if let seconds = problem.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
    return Response(
      status: problem.status,
      headers: headers,
      body: .init(byteBuffer: ByteBuffer(bytes: problem.json))
    )
  }

  // MARK: Helpers

  static func html(
    _ page: String,
    status: HTTPResponse.Status = .ok,
    personal: Bool = false
  ) -> Response {
    Response(
      status: status,
      headers: [
        .contentType: "text/html; charset=utf-8",
        // A page with personal data is kept by nobody; the form may be revalidated.
        .cacheControl: personal ? "no-store" : "no-cache",
      ],
      body: .init(byteBuffer: ByteBuffer(string: page))
    )
  }

  static func language(_ code: Substring?) -> CitizenLanguage {
    code.flatMap { try? CitizenLanguage(code: String($0)) } ?? .vietnamese
  }

  static func language(_ code: String?) -> CitizenLanguage {
    code.flatMap { try? CitizenLanguage(code: $0) } ?? .vietnamese
  }

  static func credentials(_ form: [String: String]) -> CitizenRequest {
    CitizenRequest(
      trackingNumber: form["tracking_number"] ?? "",
      verificationCode: form["verification_code"] ?? ""
    )
  }

  static func body(_ request: Request) async throws -> ByteBuffer {
    do {
      return try await request.body.collect(upTo: Self.maximumBodyBytes)
    } catch {
      throw TrackingError(code: .resourceLimit, message: "the request body is too large")
    }
  }

  /// An `application/x-www-form-urlencoded` body.
  static func form(_ request: Request) async throws -> [String: String] {
    let buffer = try await Self.body(request)
    return FormBody.parse(String(buffer: buffer))
  }
}

/// `application/x-www-form-urlencoded` (the WHATWG URL standard's parser): `&`-separated
/// `name=value` pairs, `+` for a space, `%XX` bytes in UTF-8; the last of a repeated name wins.
enum FormBody {
  static func parse(_ body: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = Self.decode(parts[0])
      fields[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
    }
    return fields
  }

  private static func decode(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
      if byte == UInt8(ascii: "+") {
        bytes.append(UInt8(ascii: " "))
      } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
        let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
      {
        bytes.append(value)
        iterator = iterator.dropFirst(2)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
