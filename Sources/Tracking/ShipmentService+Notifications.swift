extension ShipmentService {
  /// Changes the channel a citizen is told about their dossier on, at their request: staff at
  /// the counter, or the citizen with the number and code (``changeNotificationChannel(_:code:client:to:now:)``).
  /// Every choice is kept, a repeated one too (it confirms the consent); messages for later
  /// events follow it, messages already queued are not withdrawn.
  /// - Parameters:
  ///   - number: The shipment.
  ///   - channel: The new channel (``NotificationChannel/none`` withdraws consent).
  ///   - source: Who asks.
  ///   - actor: The staff member, or `nil` for the citizen.
  ///   - now: The current time.
  /// - Returns: The choice as recorded.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming `channel` for a channel the gateway
  ///   does not send on; `.failedPrecondition` once the personal data was erased; `.notFound`.
  public func changeNotificationChannel(
    _ number: TrackingNumber,
    to channel: NotificationChannel,
    source: ConsentSource,
    actor: Actor?,
    now: Timestamp
  ) async throws -> NotificationConsent {
    try self.checkOffered(channel, field: "channel")
    let consent = NotificationConsent(
      channel: channel,
      changedAt: now,
      source: source,
      actor: actor?.id
    )
    for _ in 1 ... Self.maximumCommitAttempts {
      let stored = try await self.stored(number)
      guard stored.shipment.personalDataErasedAt == nil else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "the shipment's personal data was erased; there is no number to send to"
        )
      }
      let write = self.writer.write(consent, to: stored, now: now)
      do {
        _ = try await self.store.commit(write)
        return consent
      } catch let error as TrackingError where error.code == .conflict {
        continue
      }
    }
    throw TrackingError.conflict()
  }

  /// The citizen, with the number and code, chooses whether and how to be told about the
  /// dossier. The code is checked as for tracking (the same throttle).
  /// - Throws: ``TrackingError`` `.notFound`, `.throttled`, and as
  ///   ``changeNotificationChannel(_:to:source:actor:now:)``.
  public func changeNotificationChannel(
    _ number: TrackingNumber,
    code: VerificationCode,
    client: String,
    to channel: NotificationChannel,
    now: Timestamp
  ) async throws -> NotificationConsent {
    try self.checkOffered(channel, field: "channel")
    _ = try await self.authenticateCitizen(number, code: code, client: client, now: now)
    return try await self.changeNotificationChannel(
      number,
      to: channel,
      source: .citizen,
      actor: nil,
      now: now
    )
  }

  /// The channels a citizen may choose here: none always, SMS and Zalo when configured.
  public var offeredChannels: [NotificationChannel] {
    let configured = self.notifications?.current.channels ?? []
    return NotificationChannel.allCases.filter { $0 == .none || configured.contains($0) }
  }

  /// Refuses a channel the gateway does not send on.
  func checkOffered(_ channel: NotificationChannel, field: String) throws {
    guard !self.offeredChannels.contains(channel) else { return }
    throw TrackingError.invalidField(
      field,
      "this gateway sends no \(channel == .sms ? "SMS" : "Zalo") messages (offered: \(self.offeredChannels.map(\.rawValue).joined(separator: ", ")))"
    )
  }
}
