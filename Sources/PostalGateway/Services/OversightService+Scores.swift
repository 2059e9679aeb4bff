import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// The art. 13 scores and the Decision 766 shares for a period, per group.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed date, a reversed or too long period, or a
  ///   missing grouping; `UNAVAILABLE`.
  func getScores(
    request: Postalgateway_V1_GetScoresRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ScoreReport {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      let grouping = v.check("group_by") { try IndicatorGrouping(request.groupBy) }
      try v.finish()
      guard let from, let to, let grouping else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      let scorecard = self.policy.current.decision766
      let now = self.clock.now()
      let rows = try await OversightScores(indicators: self.indicators).report(
        from: from,
        through: to,
        grouping: grouping,
        scorecard: scorecard,
        now: now
      )
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.groupBy = request.groupBy
        $0.generatedAt = now.proto
        $0.legalSource = ScoreIndicator.source
        $0.notComputed = ScoreIndicator.notComputed.map { item in
          .with {
            $0.indicator = Int32(item.indicator)
            $0.reason = item.reason
          }
        }
        $0.scorecard = scorecard.groups.map { group in
          .with {
            $0.code = group.code
            $0.name = group.name
            $0.points = group.points
            $0.confirmed = group.confirmed
            $0.measure = group.measure?.rawValue ?? ""
          }
        }
        $0.scorecardSource = scorecard.source
        $0.scorecardMethod = Decision766.method
        $0.rows = rows.map(Postalgateway_V1_ScoreReportRow.init)
      }
    }
  }
}

extension Postalgateway_V1_ScoreReportRow {
  init(_ row: ScoreReportRow) {
    self = .with {
      $0.key = row.scores.key
      $0.dossiers = Int32(clamping: row.scores.dossiers)
      $0.totalTime = row.scores.averages[.totalTime] ?? 0
      $0.unitTime = row.scores.averages[.unitTime] ?? 0
      $0.contacts = row.scores.averages[.contacts] ?? 0
      $0.bodies = row.scores.averages[.bodies] ?? 0
      $0.attitude = row.scores.averages[.attitude] ?? 0
      $0.total = row.scores.total
      $0.band =
        switch row.scores.band {
        case .full: .full
        case .most: .most
        case .belowSeventy: .below70
        case nil: .unspecified
        }
      $0.shares = row.shares.map { share in
        .with {
          $0.code = share.group.code
          $0.measured = share.rate != nil
          $0.ratePercent = share.rate ?? 0
          $0.points = share.points ?? 0
          $0.maxPoints = share.group.points
        }
      }
    }
  }
}
