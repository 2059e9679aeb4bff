import Foundation
import HTTPTypes
import Tracking

/// A domain error as the web page and the JSON API tell it: an HTTP status and a message a
/// person understands, in the page's language (RFC 9457 problem details for the API). The one
/// place the web maps ``TrackingError`` codes, as `RPCError+Tracking.swift` does for gRPC.
struct WebProblem: Error, Sendable {
  var status: HTTPResponse.Status
  /// Short, for the problem's `title`.
  var title: String
  /// For people.
  var detail: String
  /// The request field it is about, if one.
  var field: String?
  /// Every field refused, with the domain's reason (for developers).
  var violations: [TrackingError.FieldViolation] = []
  /// For a throttled request: when to try again.
  var retryAfterSeconds: Int?

  /// What the citizen was doing, for the words of a refusal.
  enum Action: Sendable {
    case track, notify, rate
  }

  /// The problem an error of the citizen desk means.
  init(_ error: any Error, text: WebText, action: Action = .track) {
    guard let error = error as? TrackingError else {
      self.init(status: .internalServerError, title: "Lỗi hệ thống", detail: text.unavailable)
      return
    }
    switch error.code {
    case .invalidArgument:
      let field = error.violations.first?.field
      self.init(
        status: .badRequest,
        title: text.language == .english ? "Invalid request" : "Yêu cầu không hợp lệ",
        detail: text.invalid(field ?? ""),
        field: field,
        violations: error.violations
      )
    case .notFound:
      self.init(
        status: .notFound,
        title: text.language == .english ? "Not found" : "Không tìm thấy",
        detail: text.notFound
      )
    case .throttled:
      let seconds = Int(error.retryAfter?.components.seconds ?? 60)
      self.init(
        status: .tooManyRequests,
        title: text.language == .english ? "Too many attempts" : "Quá nhiều lần thử",
        detail: text.throttled(minutes: max(1, (seconds + 59) / 60)),
        retryAfterSeconds: max(1, seconds)
      )
    case .failedPrecondition:
      self.init(
        status: .conflict,
        title: text.language == .english ? "Not possible now" : "Chưa thể thực hiện",
        detail: action == .rate ? text.rateNotYet : text.erased
      )
    case .duplicate:
      self.init(
        status: .conflict,
        title: text.language == .english ? "Already done" : "Đã thực hiện",
        detail: text.alreadyRated
      )
    case .resourceLimit:
      self.init(
        status: .contentTooLarge,
        title: text.requestTooLarge,
        detail: text.requestTooLarge
      )
    default:
      self.init(
        status: .serviceUnavailable,
        title: text.language == .english ? "Unavailable" : "Tạm gián đoạn",
        detail: text.unavailable
      )
    }
  }

  init(
    status: HTTPResponse.Status,
    title: String,
    detail: String,
    field: String? = nil,
    violations: [TrackingError.FieldViolation] = [],
    retryAfterSeconds: Int? = nil
  ) {
    self.status = status
    self.title = title
    self.detail = detail
    self.field = field
    self.violations = violations
    self.retryAfterSeconds = retryAfterSeconds
  }

  /// `application/problem+json` (RFC 9457), with the refused fields and the retry delay as
  /// extension members.
  var json: Data {
    var object: [String: Any] = [
      "type": "about:blank", "title": self.title, "status": self.status.code,
      "detail": self.detail,
    ]
    if !self.violations.isEmpty {
      object["errors"] = self.violations.map { ["field": $0.field, "reason": $0.reason] }
    }
    if let seconds = self.retryAfterSeconds { object["retryAfterSeconds"] = seconds }
    // Strings and numbers only: serialization cannot fail.
    return (try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys)) ?? Data()
  }

  /// What a page shows.
  var pageError: PageError { PageError(message: self.detail, field: self.field) }
}
