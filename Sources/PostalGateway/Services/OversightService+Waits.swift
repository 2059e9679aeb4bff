import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// Counter waits of the tickets issued in a period, per post office or hour of the day.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed date, a reversed or too long period, or a
  ///   missing grouping; `UNAVAILABLE`.
  func getCounterWaits(
    request: Postalgateway_V1_GetCounterWaitsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_CounterWaitReport {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      let grouping = v.check("group_by") {
        switch request.groupBy {
        case .postOffice: CounterWaitGrouping.postOffice
        case .hourOfDay: CounterWaitGrouping.hourOfDay
        case .unspecified, .UNRECOGNIZED: throw InvalidValue("must be POST_OFFICE or HOUR_OF_DAY")
        }
      }
      try v.finish()
      // finish() threw if any is nil.
      let rows = try await self.queue.waits(from: from!, to: to!, grouping: grouping!)
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.groupBy = request.groupBy
        $0.generatedAt = self.clock.now().proto
        $0.targetMinutes = Int32(CounterWaitTarget.minutes)
        $0.legalSource = CounterWaitTarget.source
        $0.rows = rows.map { row in
          .with {
            $0.key = row.key
            $0.tickets = Int32(clamping: row.tickets)
            $0.meanWaitMinutes = row.meanSeconds / 60
            $0.medianWaitMinutes = Double(row.medianSeconds) / 60
            $0.p90WaitMinutes = Double(row.p90Seconds) / 60
            $0.longestWaitMinutes = Double(row.longestSeconds) / 60
            $0.withinTarget = Int32(clamping: row.withinTarget)
            $0.withinTargetPercent = row.withinTargetPercent
          }
        }
      }
    }
  }
}
