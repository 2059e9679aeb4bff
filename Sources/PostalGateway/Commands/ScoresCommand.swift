import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway scores`
struct ScoresCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scores",
    abstract:
      "Oversight: Circular 01/2018 art. 13 scores (indicators 1–4, 7) of the dossiers processed in a period, per agency or post office, with the post's share of the Decision 766 groups."
  )
  @OptionGroup var client: ClientOptions
  @Option(help: "First day, YYYY-MM-DD (Vietnam).") var from: String
  @Option(help: "Last day, YYYY-MM-DD (Vietnam), inclusive.") var to: String
  @Option(help: "AGENCY or POST_OFFICE.") var groupBy = "AGENCY"
  @Option(help: "Also write the rows to this CSV file (UTF-8 with BOM).") var csv: String?

  func run() async throws {
    let grouping: Postalgateway_V1_IndicatorGrouping
    switch self.groupBy.uppercased() {
    case "AGENCY": grouping = .agency
    case "POST_OFFICE": grouping = .postOffice
    default: throw ValidationError("--group-by must be AGENCY or POST_OFFICE")
    }
    let report = try await self.client.withPartnerClient(as: "oversight") { client in
      try await Postalgateway_V1_OversightService.Client(wrapping: client).getScores(
        .with {
          $0.fromDate = self.from
          $0.toDate = self.to
          $0.groupBy = grouping
        }
      )
    }
    if let csv = self.csv {
      try Self.table(report).write(to: csv)
    }
    try self.client.emit(report) { Self.text(report, grouping: self.groupBy.uppercased()) }
  }

  static func text(_ report: Postalgateway_V1_ScoreReport, grouping: String) -> String {
    func d(_ value: Double) -> String { String(format: "%.1f", value) }
    let rows = report.rows.map { r in
      let shares = r.shares.map { s in
        s.measured
          ? "\(s.code) \(String(format: "%.1f%%", s.ratePercent)) → \(String(format: "%.2f", s.points))/\(d(s.maxPoints))"
          : "\(s.code) –"
      }
      return
        "  \(r.key)  dossiers \(r.dossiers)  1:\(d(r.totalTime)) 2:\(d(r.unitTime)) 3:\(d(r.contacts)) 4:\(d(r.bodies)) 7:\(d(r.attitude))  total \(d(r.total))/10 \(Self.band(r.band))  QĐ 766: \(shares.joined(separator: ", "))"
    }
    let missing = report.notComputed.map { "  not computed: \($0.indicator) — \($0.reason)" }
    return
      (["\(report.fromDate) – \(report.toDate) by \(grouping)  (\(report.legalSource))"] + rows
      + missing + ["  QĐ 766 weights: \(report.scorecardSource)", "  \(report.scorecardMethod)"])
      .joined(separator: "\n")
  }

  static func band(_ band: Postalgateway_V1_DutyBand) -> String {
    switch band {
    case .full: "hoàn thành 100% nhiệm vụ"
    case .most: "hoàn thành 70% đến dưới 100%"
    case .below70: "hoàn thành dưới 70%"
    case .unspecified, .UNRECOGNIZED: "–"
    }
  }

  /// The report as a spreadsheet.
  static func table(_ report: Postalgateway_V1_ScoreReport) -> CSVTable {
    let groups = report.scorecard.filter { !$0.measure.isEmpty }
    return CSVTable(
      header: [
        "Nhóm (key)", "Hồ sơ (dossiers)", "Chỉ số 1", "Chỉ số 2", "Chỉ số 3", "Chỉ số 4",
        "Chỉ số 7", "Tổng điểm (total)", "Xếp loại (band)",
      ] + groups.map { "QĐ 766 \($0.name) (\($0.code))" },
      rows: report.rows.map { r in
        [
          r.key, "\(r.dossiers)", CSVTable.number(r.totalTime, digits: 1),
          CSVTable.number(r.unitTime, digits: 1),
          CSVTable.number(r.contacts, digits: 1), CSVTable.number(r.bodies, digits: 1),
          CSVTable.number(r.attitude, digits: 1),
          CSVTable.number(r.total, digits: 1), Self.band(r.band),
        ] + r.shares.map { $0.measured ? CSVTable.number($0.points, digits: 2) : "" }
      }
    )
  }
}
