import GRPCCore
import Proto
import Tracking

extension CounterService {
  /// Changes the channel the citizen is told about the dossier on, at their request at the
  /// counter.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming `tracking_number` or `channel` (UNSPECIFIED, or one
  ///   this gateway does not send on); `NOT_FOUND`; `FAILED_PRECONDITION` once the personal
  ///   data was erased; `UNAVAILABLE`.
  func setNotificationChannel(
    request: Postalgateway_V1_SetNotificationChannelRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_NotificationConsent {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let channel = v.check("channel") { try NotificationChannel(request.channel) }
      try v.finish()
      // finish() threw if either is nil.
      let consent = try await self.shipments.changeNotificationChannel(
        number!,
        to: channel!,
        source: .staff,
        actor: actor,
        now: self.clock.now()
      )
      return Postalgateway_V1_NotificationConsent(consent)
    }
  }
}
