import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import SwiftASN1
import Tracking
import X509

/// A request's context on the oversight address: the connection, whose verified client
/// certificate says who is asking.
struct OversightContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  let channel: any Channel

  init(source: ApplicationRequestContextSource) {
    self.coreContext = .init(source: source)
    self.channel = source.channel
  }

  /// The client certificate the TLS handshake verified, if any.
  func peerCertificate() async -> Certificate? {
    let channel = self.channel
    let der: [UInt8]? =
      (try? await channel.eventLoop.submit {
        try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
          .peerCertificate?.toDERBytes()
      }.get()) ?? nil
    guard let der else { return nil }
    return try? Certificate(derEncoded: der)
  }
}

/// Only the oversight office, by its client certificate (chained to the partners' CA at the
/// handshake; its SPIFFE ID of the oversight role; not revoked), reads the oversight pages.
struct OversightAccessMiddleware: RouterMiddleware {
  typealias Context = OversightContext

  let trustDomain: String
  let revocations: RevocationHolder
  let logger: Logger

  func handle(
    _ request: Request,
    context: OversightContext,
    next: (Request, OversightContext) async throws -> Response
  ) async throws -> Response {
    guard let certificate = await context.peerCertificate(),
      let actor = CertificateIdentityResolver.actor(of: certificate, trustDomain: self.trustDomain),
      actor.role == .oversight,
      !self.revocations.current.refuses(
        serial: RevocationListFile.serial(of: certificate),
        identity: actor.id
      )
    else {
      self.logger.notice(
        "refused: not the oversight office",
        metadata: ["web.path": "\(request.uri.path)"]
      )
      var response = CitizenWeb.html(
        CitizenPages(text: WebText(language: .vietnamese)).message(
          "Trang này chỉ dành cho cơ quan giám sát (chứng thư số của vai trò oversight)."
        ),
        status: .forbidden
      )
      for field in SecurityHeadersMiddleware.headers { response.headers.append(field) }
      return response
    }
    var response = try await next(request, context)
    for field in SecurityHeadersMiddleware.headers where response.headers[field.name] == nil {
      response.headers.append(field)
    }
    return response
  }
}

/// The oversight office's page (issue 20's charts, served once a web page exists): a form to
/// choose an indicator, a period, an interval and a grouping, and the chart rendered on the
/// server as SVG inline (no script), with its values as a table and the SVG to download. On its
/// own address with mutual TLS: never on the citizens' one.
///
/// - `GET /` the form; `GET /bieu-do?indicator=…&from=YYYY-MM-DD&to=…&interval=…&group_by=…`
///   the chart; `GET /bieu-do.svg?…` the SVG file; `GET /static/site.css`.
struct OversightWeb: Sendable {
  let charts: IndicatorCharts
  let trustDomain: String
  let revocations: RevocationHolder
  let assets: WebAssets
  let clock: any WallClock
  let logger: Logger

  func router() -> Router<OversightContext> {
    let router = Router(context: OversightContext.self)
    router.add(
      middleware: OversightAccessMiddleware(
        trustDomain: self.trustDomain,
        revocations: self.revocations,
        logger: self.logger
      )
    )
    router.get("/") { _, _ in
      CitizenWeb.html(Self.page(title: "Chỉ số theo thời gian", body: Self.form(.init())))
    }
    router.get("/bieu-do") { request, _ in
      try await self.chartPage(request, svgOnly: false)
    }
    router.get("/bieu-do.svg") { request, _ in
      try await self.chartPage(request, svgOnly: true)
    }
    router.get("/static/site.css") { _, _ in
      Response(
        status: .ok,
        headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
        body: .init(byteBuffer: ByteBuffer(bytes: self.assets.stylesheet))
      )
    }
    return router
  }

  /// What the form asks.
  struct Choice: Sendable {
    var indicator = ChartIndicator.onTime
    var from = ""
    var to = ""
    var interval = ChartInterval.month
    var grouping = IndicatorGrouping.agency
  }

  private func chartPage(_ request: Request, svgOnly: Bool) async throws -> Response {
    let query = request.uri.queryParameters
    var v = RequestValidator()
    let indicator = v.check("indicator") {
      guard let value = ChartIndicator(rawValue: String(query["indicator"] ?? "")) else {
        throw InvalidValue(
          "must be \(ChartIndicator.allCases.map(\.rawValue).joined(separator: ", "))"
        )
      }
      return value
    }
    let interval = v.check("interval") {
      guard let value = ChartInterval(rawValue: String(query["interval"] ?? "")) else {
        throw InvalidValue("must be DAY, WEEK or MONTH")
      }
      return value
    }
    let grouping = v.check("group_by") {
      switch query["group_by"] ?? "" {
      case "AGENCY": IndicatorGrouping.agency
      case "POST_OFFICE": IndicatorGrouping.postOffice
      default: throw InvalidValue("must be AGENCY or POST_OFFICE")
      }
    }
    let (from, to) = v.period(from: String(query["from"] ?? ""), to: String(query["to"] ?? ""))
    var choice = Choice(from: String(query["from"] ?? ""), to: String(query["to"] ?? ""))
    if let indicator { choice.indicator = indicator }
    if let interval { choice.interval = interval }
    if let grouping { choice.grouping = grouping }
    do {
      try v.finish()
      guard let indicator, let interval, let grouping, let from, let to else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      let chart = try await self.charts.chart(
        indicator,
        from: from,
        through: to,
        interval: interval,
        grouping: grouping,
        now: self.clock.now()
      )
      let svg = SvgChart(chart: chart).render()
      if svgOnly {
        return Response(
          status: .ok,
          headers: [
            .contentType: "image/svg+xml; charset=utf-8",
            .contentDisposition:
              "attachment; filename=\"bieu-do-\(indicator.rawValue.lowercased()).svg\"",
            .cacheControl: "no-store",
          ],
          body: .init(byteBuffer: ByteBuffer(string: svg))
        )
      }
      return CitizenWeb.html(
        Self.page(
          title: "Chỉ số theo thời gian",
          body: Self.form(choice) + Self.chart(chart, svg: svg, query: request.uri.query ?? "")
        ),
        personal: true
      )
    } catch let error as TrackingError where error.code == .invalidArgument {
      let fields = error.violations.map { "\($0.field): \($0.reason)" }.joined(separator: "; ")
      return CitizenWeb.html(
        Self.page(
          title: "Chỉ số theo thời gian",
          body: """
            <div class="error" role="alert"><h2>Chưa vẽ được biểu đồ</h2>
            <p id="error-message">\(fields.html)</p></div>
            """ + Self.form(choice)
        ),
        status: .badRequest
      )
    }
  }

  static func form(_ choice: Choice) -> String {
    func options<T: Equatable>(_ values: [(T, String, String)], _ selected: T) -> String {
      values.map {
        "<option value=\"\($0.1)\"\($0.0 == selected ? " selected" : "")>\($0.2.html)</option>"
      }.joined()
    }
    let indicators: [(ChartIndicator, String, String)] = [
      (.onTime, "ON_TIME", "Tỷ lệ đúng hạn"), (.digitized, "DIGITIZED", "Tỷ lệ số hóa"),
      (.electronic, "ELECTRONIC", "Tỷ lệ chuyển điện tử"),
      (.satisfaction, "SATISFACTION", "Mức độ hài lòng"),
      (.reused, "REUSED", "Tái sử dụng giấy tờ"),
      (.wait, "WAIT", "Thời gian chờ tại quầy"),
    ]
    let intervals: [(ChartInterval, String, String)] = [
      (.day, "DAY", "Ngày"), (.week, "WEEK", "Tuần"), (.month, "MONTH", "Tháng"),
    ]
    let groupings: [(IndicatorGrouping, String, String)] = [
      (.agency, "AGENCY", "Cơ quan giải quyết"), (.postOffice, "POST_OFFICE", "Bưu cục"),
    ]
    return """
      <form method="get" action="/bieu-do" class="card">
      <div class="field"><label for="indicator">Chỉ số</label>
      <select id="indicator" name="indicator">\(options(indicators, choice.indicator))</select></div>
      <div class="field"><label for="from">Từ ngày</label>
      <input id="from" name="from" type="date" value="\(choice.from.html)" required></div>
      <div class="field"><label for="to">Đến ngày</label>
      <input id="to" name="to" type="date" value="\(choice.to.html)" required></div>
      <div class="field"><label for="interval">Theo</label>
      <select id="interval" name="interval">\(options(intervals, choice.interval))</select></div>
      <div class="field"><label for="group_by">Nhóm theo</label>
      <select id="group_by" name="group_by">\(options(groupings, choice.grouping))</select></div>
      <button type="submit">Vẽ biểu đồ</button>
      </form>

      """
  }

  static func chart(_ chart: IndicatorChart, svg: String, query: String) -> String {
    func date(_ day: CivilDate) -> String { CitizenWording(.vietnamese).date(day) }
    var table =
      "<table><caption>Giá trị (\(chart.indicator.unit.html))</caption><thead><tr><th scope=\"col\">Nhóm</th>"
    for bucket in chart.buckets {
      table += "<th scope=\"col\">\(date(bucket.lowerBound))</th>"
    }
    table += "</tr></thead><tbody>"
    for series in chart.series {
      table += "<tr><th scope=\"row\">\(series.key.html)</th>"
      for point in series.points {
        table += "<td>\(point.value.map { String(format: "%.1f", $0) } ?? "–")</td>"
      }
      table += "</tr>"
    }
    table += "</tbody></table>"
    return """
      <section class="card chart" aria-label="Biểu đồ">
      \(svg)
      </section>
      <section class="card table" aria-label="Bảng giá trị">
      \(table)
      </section>
      <p><a href="/bieu-do.svg?\(query.html)">Tải biểu đồ (SVG)</a></p>

      """
  }

  static func page(title: String, body: String) -> String {
    """
    <!doctype html>
    <html lang="vi">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(title.html) — Giám sát</title>
    <link rel="stylesheet" href="/static/site.css">
    </head>
    <body>
    <header><p class="brand">Giám sát dịch vụ bưu chính công ích — PostalGateway</p></header>
    <main id="main">
    <h1>\(title.html)</h1>
    \(body)</main>
    </body>
    </html>

    """
  }
}
