import Foundation
import GRPCCore
import GRPCProtobuf
import Logging
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// Offline capture: applies each device's events in its sequence order, exactly once.
  func syncEvents(
    request: RPCAsyncSequence<Postalgateway_V1_SyncEventsRequest, any Error>,
    response: RPCWriter<Postalgateway_V1_SyncEventsResponse>,
    context: ServerContext
  ) async throws {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      for try await message in request {
        guard let (device, entry) = self.envelope(message, actor: actor) else {
          try await response.write(
            .with {
              $0.deviceID = message.deviceID
              $0.deviceSequence = message.deviceSequence
              $0.status = .rejected
              $0.code = Int32(RPCError.Code.invalidArgument.rawValue)
              $0.message =
                "device_id must be 1–64 of letters, digits, '-', '_', '.'; device_sequence at least 1; device_time and an event are required"
            }
          )
          continue
        }
        let acknowledgements = try await self.offline.receive(
          entry,
          from: device,
          now: self.clock.now()
        ) { entry in
          await self.apply(entry, device: device, actor: actor, method: context.descriptor)
        }
        for acknowledgement in acknowledgements {
          try await response.write(.init(acknowledgement, deviceID: device.deviceID))
        }
      }
    }
  }

  /// The device and the entry to sequence, or `nil` when the envelope itself is unusable.
  private func envelope(
    _ message: Postalgateway_V1_SyncEventsRequest,
    actor: Actor
  ) -> (DeviceKey, DeviceEntry)? {
    guard let device = try? DeviceKey(caller: actor.id, deviceID: message.deviceID),
      message.deviceSequence >= 1, message.hasDeviceTime, message.event != nil
    else { return nil }
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    guard let payload: [UInt8] = try? message.serializedBytes(options: options) else { return nil }
    let digest = RequestFingerprint.digest(payload)
    return (
      device,
      DeviceEntry(
        sequence: Int(message.deviceSequence),
        fingerprint: digest,
        payload: payload,
        outcome: nil
      )
    )
  }

  /// Applies one offline event through the same domain calls as the online RPCs, with the device
  /// and sequence number as the idempotency key.
  private func apply(
    _ entry: DeviceEntry,
    device: DeviceKey,
    actor: Actor,
    method: MethodDescriptor
  ) async -> SyncOutcome {
    var number: String?
    do {
      let message = try Postalgateway_V1_SyncEventsRequest(serializedBytes: entry.payload)
      let requestID = try RequestID(validating: "sync/\(device.deviceID)/\(entry.sequence)")
      let key = IdempotencyKey(
        requestID: requestID,
        caller: actor.id,
        fingerprint: entry.fingerprint
      )
      let now = self.clock.now()
      var v = RequestValidator()
      let deviceTime = v.check("device_time") { try Timestamp(message.deviceTime) }
      let recorded: RecordedEvent
      switch message.event {
      case .recordEvent(let event):
        number = event.trackingNumber
        var request = event
        request.requestID = requestID.rawValue
        request.occurredAt = message.deviceTime
        let (_, recording) = try request.domain(trustDomain: self.trustDomain)
        try v.finish()
        recorded = try await self.shipments.recordEvent(
          recording,
          by: actor,
          idempotencyKey: key,
          now: now
        )
      case .deliveryAttempt(let attempt):
        number = attempt.trackingNumber
        var request = attempt
        request.occurredAt = message.deviceTime
        let (trackingNumber, report, context) = request.content(now: now, validator: &v)
        try v.finish()
        // finish() threw if either is nil.
        recorded = try await self.shipments.recordDeliveryAttempt(
          trackingNumber!,
          report: report!,
          context: context,
          by: actor,
          idempotencyKey: key,
          now: now
        )
      case nil:
        throw TrackingError.invalidField("event", "is required")
      }
      _ = deviceTime
      self.logRecorded(recorded, actor: actor)
      return .accepted(
        trackingNumber: recorded.shipment.trackingNumber.rawValue,
        eventSequence: recorded.event.sequence
      )
    } catch let error as TrackingError {
      if error.code == .storageFailure {
        self.logger.error(
          "store failure during sync",
          metadata: ["error.cause": "\(error.underlying ?? "")"]
        )
      }
      return .rejected(
        code: String(error.status.code.rawValue),
        message: error.message,
        trackingNumber: number
      )
    } catch {
      return .rejected(
        code: String(RPCError.Code.invalidArgument.rawValue),
        message: "unreadable event",
        trackingNumber: number
      )
    }
  }
}

extension Postalgateway_V1_SyncEventsResponse {
  init(_ acknowledgement: SyncAcknowledgement, deviceID: String) {
    self.init()
    self.deviceID = deviceID
    self.deviceSequence = Int64(acknowledgement.sequence)
    self.processedThrough = Int64(acknowledgement.processedThrough)
    self.missingSequences = acknowledgement.missing.map(Int64.init)
    self.missingCount = Int64(acknowledgement.missingCount)
    func fill(_ outcome: SyncOutcome, _ response: inout Self) {
      response.trackingNumber = outcome.trackingNumber ?? ""
      switch outcome.status {
      case .accepted:
        response.eventSequence = Int64(outcome.eventSequence ?? 0)
      case .rejected:
        response.code = Int32(outcome.code ?? "") ?? Int32(RPCError.Code.unknown.rawValue)
        response.message = outcome.message ?? ""
      }
    }
    switch acknowledgement.disposition {
    case .processed(let outcome):
      self.status = outcome.status == .accepted ? .accepted : .rejected
      fill(outcome, &self)
    case .duplicate(let outcome):
      self.status = .duplicate
      fill(outcome, &self)
    case .conflicting:
      self.status = .rejected
      self.code = Int32(RPCError.Code.alreadyExists.rawValue)
      self.message = "this device sequence number was already used for a different event"
    case .held:
      self.status = .held
    case .outOfWindow(let limit):
      self.status = .rejected
      self.code = Int32(RPCError.Code.invalidArgument.rawValue)
      self.message =
        "device_sequence is more than \(OfflineSync.window) ahead of the last processed; the highest accepted now is \(limit): send the missing ones first"
    }
  }
}
