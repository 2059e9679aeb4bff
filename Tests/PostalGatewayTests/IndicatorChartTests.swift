import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The oversight charts: each bucket equals the report of its own days, and the SVG parses with
/// the expected series, points and target.
@Suite("Indicator charts")
struct IndicatorChartTests {
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()

  static func chartRequest(
    _ indicator: Postalgateway_V1_ChartIndicator,
    from: String = "2026-10-01",
    to: String = "2026-12-31",
    interval: Postalgateway_V1_ChartInterval = .month,
    groupBy: Postalgateway_V1_IndicatorGrouping = .postOffice
  ) -> Postalgateway_V1_GetIndicatorChartRequest {
    .with {
      $0.fromDate = from
      $0.toDate = to
      $0.indicator = indicator
      $0.interval = interval
      $0.groupBy = groupBy
    }
  }

  @Test(
    "a monthly digitization chart has one point per month with dossiers, each equal to that month's report, and its SVG parses with the series and the target"
  )
  func monthlyChartMatchesTheMonthlyReports() async throws {
    // 10:00 in Vietnam on 5 October 2026, then 10 November.
    let clock = ManualClock(Timestamp(microseconds: 1_791_169_200_000_000))
    try await self.handoffs.withRoutedGateway(mode: .pull, clock: clock) { gateway in
      // October: one dossier digitized, one collected but not scanned.
      _ = try await self.handoffs.digitizedDossier(on: gateway)
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
      }
      clock.advance(by: .seconds(36 * 86_400))
      // November: one digitized.
      _ = try await self.handoffs.digitizedDossier(on: gateway)

      try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) { client in
        let oversight = OversightClient(wrapping: client)
        let chart = try await oversight.getIndicatorChart(Self.chartRequest(.digitized))
        #expect(
          chart.buckets.map { "\($0.firstDate)..\($0.lastDate)" } == [
            "2026-10-01..2026-10-31", "2026-11-01..2026-11-30", "2026-12-01..2026-12-31",
          ]
        )
        let series = try #require(chart.series.first)
        #expect(chart.series.map(\.key) == ["250000"])
        // Each bucket is that month's report.
        for (bucket, value) in zip(chart.buckets, series.values) {
          let report = try await oversight.getIndicators(
            .with {
              $0.fromDate = bucket.firstDate
              $0.toDate = bucket.lastDate
              $0.groupBy = .postOffice
            }
          )
          if let row = report.rows.first(where: { $0.key == "250000" }), row.dossiers > 0 {
            #expect(value.measured && value.value == row.digitizedPercent)
            #expect(value.count == row.dossiers)
          } else {
            #expect(!value.measured && value.count == 0)
          }
        }
        #expect(series.values.map(\.measured) == [true, true, false])
        #expect(series.values.prefix(2).map(\.value) == [50, 100])
        #expect(chart.hasTarget_p && chart.target == 100 && chart.unit == "%")

        // The SVG: a document with the title, one series with one point per measured month.
        let svg = try SVGSummary(chart.svg)
        #expect(svg.root == "svg")
        #expect(svg.title.hasPrefix("Tỷ lệ hồ sơ được số hóa, 01/10/2026 – 31/12/2026"))
        #expect(svg.series.keys.sorted() == ["250000"])
        #expect(svg.series["250000"] == ["50", "100"])
        #expect(svg.targets == ["100"])

        // On-time: every bucket's hops are the SLA report's for its days.
        let onTime = try await oversight.getIndicatorChart(
          Self.chartRequest(.onTime, interval: .week)
        )
        #expect(onTime.buckets.first?.firstDate == "2026-10-01")
        #expect(onTime.buckets.first?.lastDate == "2026-10-04")
        for (index, bucket) in onTime.buckets.enumerated() {
          let report = try await oversight.getSlaReport(
            .with {
              $0.fromDate = bucket.firstDate
              $0.toDate = bucket.lastDate
              $0.groupBy = .postOffice
            }
          )
          let ended = report.rows.filter { $0.key == "250000" }.map(\.ended).reduce(0, +)
          let value = onTime.series.first { $0.key == "250000" }?.values[index]
          #expect((value?.count ?? 0) == ended)
        }
        _ = try SVGSummary(onTime.svg)

        // Bad requests name the field.
        let waitByAgency = await rpcError {
          _ = try await oversight.getIndicatorChart(Self.chartRequest(.wait, groupBy: .agency))
        }
        #expect(waitByAgency?.code == .invalidArgument)
        #expect(waitByAgency?.message.hasPrefix("group_by") == true)
        let daily = await rpcError {
          _ = try await oversight.getIndicatorChart(
            Self.chartRequest(.digitized, from: "2026-01-01", interval: .day)
          )
        }
        #expect(daily?.code == .invalidArgument)
        #expect(daily?.message.hasPrefix("interval") == true)
        let none = await rpcError {
          _ = try await oversight.getIndicatorChart(Self.chartRequest(.unspecified))
        }
        #expect(none?.message.hasPrefix("indicator") == true)
      }
    }
  }

  @Test("buckets cut the period into clipped ISO weeks and calendar months")
  func bucketsAreClipped() {
    let from = CivilDate(year: 2026, month: 1, day: 28)
    let through = CivilDate(year: 2026, month: 3, day: 3)
    #expect(
      ChartInterval.month.buckets(from: from, through: through).map {
        "\($0.lowerBound)..\($0.upperBound)"
      } == ["2026-01-28..2026-01-31", "2026-02-01..2026-02-28", "2026-03-01..2026-03-03"]
    )
    // 28/1/2026 is a Wednesday.
    let weeks = ChartInterval.week.buckets(from: from, through: through)
    #expect(weeks.first.map { "\($0.lowerBound)..\($0.upperBound)" } == "2026-01-28..2026-02-01")
    #expect(weeks.dropFirst().allSatisfy { $0.lowerBound.isoWeekday == 1 })
    #expect(weeks.last.map { "\($0.upperBound)" } == "2026-03-03")
    #expect(ChartInterval.day.buckets(from: from, through: through).count == 35)
  }
}

/// What a chart's SVG holds, read with an XML parser: the root, the title, each series' point
/// values and the target lines.
final class SVGSummary: NSObject, XMLParserDelegate {
  private(set) var root = ""
  private(set) var title = ""
  private(set) var series: [String: [String]] = [:]
  private(set) var targets: [String] = []
  private var path: [String] = []
  private var currentSeries: String?

  init(_ text: String) throws {
    super.init()
    let parser = XMLParser(data: Data(text.utf8))
    parser.delegate = self
    guard parser.parse() else {
      throw ValidationFailure("the SVG does not parse: \(String(describing: parser.parserError))")
    }
  }

  func parser(
    _ parser: XMLParser,
    didStartElement name: String,
    namespaceURI: String?,
    qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    if self.path.isEmpty { self.root = name }
    self.path.append(name)
    if name == "g", attributes["class"] == "series", let key = attributes["data-key"] {
      self.currentSeries = key
      self.series[key] = []
    }
    if name == "g", attributes["class"] == "target", let value = attributes["data-value"] {
      self.targets.append(value)
    }
    if name == "circle", let key = self.currentSeries, let value = attributes["data-value"] {
      self.series[key, default: []].append(value)
    }
  }

  func parser(
    _ parser: XMLParser,
    didEndElement name: String,
    namespaceURI: String?,
    qualifiedName: String?
  ) {
    self.path.removeLast()
    if name == "g" { self.currentSeries = nil }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if self.path == ["svg", "title"] { self.title += string }
  }
}

struct ValidationFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
