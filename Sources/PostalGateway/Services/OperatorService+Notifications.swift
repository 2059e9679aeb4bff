import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

extension OperatorService {
  /// The notification outbox per destination.
  ///
  /// - Throws: `UNAVAILABLE`.
  func getNotificationSummary(
    request: Postalgateway_V1_GetNotificationSummaryRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_NotificationSummary {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let summaries = try await self.notifications.summaries()
      return .with {
        $0.destinations = summaries.map(Postalgateway_V1_NotificationDestinationSummary.init)
      }
    }
  }

  /// Notification messages, newest first.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `UNAVAILABLE`.
  func listNotifications(
    request: Postalgateway_V1_ListNotificationsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListNotificationsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let status = request.status == .unspecified ? nil : NotificationStatus(request.status)
      if request.status != .unspecified, status == nil {
        v.fail("status", "is not a known notification status")
      }
      let channel = NotificationDestination.channelName(request.destination)
      if request.destination != .unspecified, channel == nil {
        v.fail("destination", "is not a known destination")
      }
      let number =
        request.trackingNumber.isEmpty
        ? nil
        : v.check("tracking_number") { try TrackingNumber(validating: request.trackingNumber) }
      if request.limit < 0 || request.limit > 1000 { v.fail("limit", "must be 0–1000") }
      try v.finish()
      let messages = try await self.notifications.notifications(
        matching: NotificationQuery(
          status: status,
          channel: channel,
          trackingNumber: number,
          limit: request.limit == 0 ? 100 : Int(request.limit)
        )
      )
      return .with { $0.notifications = messages.map(Postalgateway_V1_Notification.init) }
    }
  }

  /// Puts a dead-lettered message back in the queue.
  ///
  /// - Throws: `INVALID_ARGUMENT` without an id; `NOT_FOUND`; `FAILED_PRECONDITION` unless it
  ///   is dead-lettered; `UNAVAILABLE`.
  func retryNotification(
    request: Postalgateway_V1_RetryNotificationRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Notification {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard !request.messageID.isEmpty else {
        throw TrackingError.invalidField("message_id", "is required")
      }
      guard
        let message = try await self.notifications.retryDeadLetter(
          id: request.messageID,
          now: self.clock.now()
        )
      else {
        throw TrackingError(code: .notFound, message: "no such message")
      }
      self.logger.notice(
        "dead letter requeued",
        metadata: ["notification.id": "\(message.id)"]
      )
      return Postalgateway_V1_Notification(message)
    }
  }
}
