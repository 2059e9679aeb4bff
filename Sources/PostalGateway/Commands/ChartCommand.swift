import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway chart --indicator … --from … --to … --out FILE.svg`
struct ChartCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chart",
    abstract:
      "Oversight: one indicator over time per agency or post office, written as an SVG chart."
  )
  @OptionGroup var client: ClientOptions
  @Option(help: "ON_TIME, DIGITIZED, ELECTRONIC, SATISFACTION, REUSED or WAIT.")
  var indicator: String
  @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
  @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
  @Option(help: "DAY, WEEK or MONTH.") var interval = "MONTH"
  @Option(help: "AGENCY or POST_OFFICE.") var groupBy = "POST_OFFICE"
  @Option(help: "Where to write the SVG.") var out: String

  func run() async throws {
    let indicators: [String: Postalgateway_V1_ChartIndicator] = [
      "ON_TIME": .onTime, "DIGITIZED": .digitized, "ELECTRONIC": .electronic,
      "SATISFACTION": .satisfaction, "REUSED": .reused, "WAIT": .wait,
    ]
    let intervals: [String: Postalgateway_V1_ChartInterval] = [
      "DAY": .day, "WEEK": .week, "MONTH": .month,
    ]
    let groupings: [String: Postalgateway_V1_IndicatorGrouping] = [
      "AGENCY": .agency, "POST_OFFICE": .postOffice,
    ]
    guard let indicator = indicators[self.indicator.uppercased()] else {
      throw ValidationError(
        "--indicator must be ON_TIME, DIGITIZED, ELECTRONIC, SATISFACTION, REUSED or WAIT"
      )
    }
    guard let interval = intervals[self.interval.uppercased()] else {
      throw ValidationError("--interval must be DAY, WEEK or MONTH")
    }
    guard let grouping = groupings[self.groupBy.uppercased()] else {
      throw ValidationError("--group-by must be AGENCY or POST_OFFICE")
    }
    let chart = try await self.client.withPartnerClient(as: "oversight") { client in
      try await Postalgateway_V1_OversightService.Client(wrapping: client).getIndicatorChart(
        .with {
          $0.fromDate = self.from
          $0.toDate = self.to
          $0.indicator = indicator
          $0.interval = interval
          $0.groupBy = grouping
        }
      )
    }
    try Data(chart.svg.utf8).write(to: URL(fileURLWithPath: self.out))
    try self.client.emit(chart) {
      (["\(self.out): \(chart.series.count) series over \(chart.buckets.count) buckets"]
        + chart.series.map { series in
          "  \(series.key)  "
            + series.values.map {
              $0.measured ? String(format: "%.1f", $0.value) : "–"
            }.joined(separator: " ")
        }).joined(separator: "\n")
    }
  }
}
