import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Tracking

/// Every answer of the web address carries the security headers: a Content-Security-Policy
/// that allows only the site's own stylesheet and forms posted to itself (no script at all,
/// no framing), HSTS, no MIME sniffing, no referrer. An unknown address or a failure becomes a
/// page a person can read, with the same headers.
struct SecurityHeadersMiddleware: RouterMiddleware {
  typealias Context = WebContext

  let assets: WebAssets

  static let headers: HTTPFields = [
    .contentSecurityPolicy:
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    .strictTransportSecurity: "max-age=31536000; includeSubDomains",
    .xContentTypeOptions: "nosniff",
    HTTPField.Name("Referrer-Policy")!: "no-referrer",
    HTTPField.Name("X-Frame-Options")!: "DENY",
    HTTPField.Name("Permissions-Policy")!:
      "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
    HTTPField.Name("Cross-Origin-Resource-Policy")!: "same-origin",
  ]

  func handle(
    _ request: Request,
    context: WebContext,
    next: (Request, WebContext) async throws -> Response
  ) async throws -> Response {
    var response: Response
    do {
      response = try await next(request, context)
    } catch let error as HTTPError {
      let text = WebText(language: CitizenWeb.language(request.uri.queryParameters["lang"]))
      let message = error.status == .notFound ? text.notFoundPage : text.unavailable
      response = CitizenWeb.html(CitizenPages(text: text).message(message), status: error.status)
    } catch {
      let text = WebText(language: .vietnamese)
      if let problem = error as? TrackingError, problem.code == .resourceLimit {
        response = CitizenWeb.html(
          CitizenPages(text: text).message(text.requestTooLarge),
          status: .contentTooLarge
        )
      } else {
        context.logger.error("web request failed", metadata: ["error": "\(error)"])
        response = CitizenWeb.html(
          CitizenPages(text: text).message(text.unavailable),
          status: .internalServerError
        )
      }
    }
    for field in Self.headers where response.headers[field.name] == nil {
      response.headers.append(field)
    }
    return response
  }
}

/// The files the page serves, read once from the bundle.
struct WebAssets: Sendable {
  /// `site.css`.
  var stylesheet: [UInt8]
  /// `openapi.json`: the JSON API's description.
  var openAPI: [UInt8]

  /// Reads them from the bundled `web` folder.
  /// - Throws: ``ConfigurationError`` when the bundle lacks them.
  static func bundled() throws -> WebAssets {
    let directory = try BundledData.path("web")
    func read(_ name: String) throws -> [UInt8] {
      let path = (directory as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigurationError("the bundled web file \(path) is missing")
      }
      return Array(data)
    }
    return WebAssets(stylesheet: try read("site.css"), openAPI: try read("openapi.json"))
  }
}
