import Foundation
import Logging
import Persistence
import Tracking

/// The domain of a running gateway: the data files in force (catalog, calendars, SLA policy,
/// routes) and the use cases built on the stores. No networking.
struct GatewayDomain: Sendable {
  let stores: Stores
  let catalog: CatalogHolder
  let catalogFile: String
  let calendar: CalendarHolder
  let calendarDirectory: String
  let slaPolicy: SlaPolicyHolder
  let slaPolicyFile: String
  let map: AdministrativeMapHolder
  let mapDirectory: String
  let routes: RouteTable
  let routesFile: String?
  /// The revocation list in force, its file, and the CA certificates that must have signed it.
  let revocations: RevocationHolder
  let revocationsFile: String
  let clientCAPEM: String
  let shipments: ShipmentService
  let agencies: AgencyDesk
  let sla: SlaDesk
  let offline: OfflineSync
  let handovers: HandoverVerifier
  let custodyLog: CustodyLog
  let checkpointer: Checkpointer
  let verifierKey: String
  /// Records reads of unmasked personal data.
  let audit: AccessAuditor
  /// Citizens' ratings and complaints.
  let ratings: RatingDesk
  /// Rotates keys (SQLite only so far; `nil` on PostgreSQL).
  let keyRotator: KeyRotator?
  /// The configured notification destinations.
  let notificationChannels: NotificationChannels

  /// Loads the data files and builds the use cases.
  /// - Throws: ``ConfigurationError`` naming a file that is missing or malformed.
  static func build(
    configuration: GatewayConfiguration,
    directory: DataDirectory,
    stores: Stores,
    keys: KeyRingFile,
    clientCAPEM: String,
    clock: any WallClock,
    election: (any SignerElection)? = nil,
    logger: Logger
  ) async throws -> GatewayDomain {
    if configuration.catalogPath == nil {
      try CatalogFile.installSample(at: configuration.catalogFile)
    }
    let catalog = CatalogHolder(try CatalogFile.load(path: configuration.catalogFile))
    let calendarDirectory = try configuration.calendarDirectory ?? Self.bundledCalendars()
    let calendar = CalendarHolder(try CalendarFiles.load(directory: calendarDirectory))
    let mapDirectory = try configuration.adminUnitsDirectory ?? Self.bundledAdminUnits()
    let map = AdministrativeMapHolder(try AdministrativeMapFile.load(directory: mapDirectory))
    let slaPolicyFile = try configuration.sla.policyFile ?? Self.bundledSlaPolicy()
    let slaPolicy = SlaPolicyHolder(
      try SlaPolicyFile.load(path: slaPolicyFile, map: map.current).policy
    )
    try Self.checkPlaces(
      of: catalog.current,
      file: configuration.catalogFile,
      in: slaPolicy.current,
      policyFile: slaPolicyFile
    )
    let timekeeper = SlaTimekeeper(
      calendars: calendar,
      policies: slaPolicy,
      catalog: catalog,
      map: map
    )
    let routes = RouteTable(try configuration.handoffs.routesFile.map(AgencyRoutesFile.load) ?? [])
    let notificationChannels = try NotificationChannels.load(configuration)
    let secret = try directory.verificationSecret()
    let revocations = RevocationHolder(
      try RevocationListFile.load(path: configuration.revocationsFile, caPEM: clientCAPEM)
    )
    let handovers = HandoverVerifier(keys: stores.signingKeys, revocations: revocations)
    let shipments = ShipmentService(
      store: stores.shipments,
      codes: VerificationCodeIssuer(secret: secret),
      throttle: TrackingThrottle(
        maximumFailures: configuration.throttle.maximumFailures,
        maximumFailuresPerNumber: configuration.throttle.maximumFailuresPerNumber,
        window: .seconds(configuration.throttle.windowSeconds),
        slowInterval: .seconds(configuration.throttle.slowIntervalSeconds)
      ),
      // validate() checked it.
      serviceIndicator: try ServiceIndicator(validating: configuration.serviceIndicator),
      catalog: catalog,
      calendar: calendar,
      personalData: PersonalDataHasher(secret: secret),
      handovers: handovers,
      routes: routes.modes,
      timekeeper: timekeeper,
      map: map,
      blindIndex: BlindIndex(secret: secret),
      notifications: NotificationSettingsHolder(notificationChannels.settings)
    )
    // Shipments registered before the blind index existed become findable.
    _ = try await shipments.indexUnindexedApplicants()
    let signer = try directory.custodySigner(
      origin: configuration.custodyOrigin,
      path: configuration.custodyKeyFile
    )
    let log = CustodyLog(origin: configuration.custodyOrigin, store: stores.custody)
    let checkpointer = Checkpointer(
      log: log,
      store: stores.custody,
      signer: signer,
      election: election
    )
    // The service refuses to start on a log that contradicts a checkpoint it signed.
    try await checkpointer.verifyHistory()
    return GatewayDomain(
      stores: stores,
      catalog: catalog,
      catalogFile: configuration.catalogFile,
      calendar: calendar,
      calendarDirectory: calendarDirectory,
      slaPolicy: slaPolicy,
      slaPolicyFile: slaPolicyFile,
      map: map,
      mapDirectory: mapDirectory,
      routes: routes,
      routesFile: configuration.handoffs.routesFile,
      revocations: revocations,
      revocationsFile: configuration.revocationsFile,
      clientCAPEM: clientCAPEM,
      shipments: shipments,
      agencies: AgencyDesk(shipments: shipments, handoffs: stores.handoffs),
      sla: SlaDesk(shipments: shipments, store: stores.sla, timekeeper: timekeeper),
      offline: OfflineSync(store: stores.offline),
      handovers: handovers,
      custodyLog: log,
      checkpointer: checkpointer,
      verifierKey: signer.verifierKey,
      audit: AccessAuditor(store: stores.accessAudit),
      ratings: RatingDesk(shipments: shipments, store: stores.ratings),
      keyRotator: SQLiteStorage.keyRotation(of: stores).map {
        KeyRotator(
          ring: keys,
          rotation: $0,
          clock: clock,
          logger: logger.with("component", "key-rotator")
        )
      },
      notificationChannels: notificationChannels
    )
  }

  /// What citizens do, through any door (gRPC, the web page, its JSON API).
  func citizenDesk(clock: any WallClock) -> CitizenDesk {
    CitizenDesk(
      shipments: self.shipments,
      ratings: self.ratings,
      log: self.custodyLog,
      checkpointer: self.checkpointer,
      verifierKey: self.verifierKey,
      clock: clock
    )
  }

  /// Reads the catalog, calendars, SLA policy and routing file again and puts them in force; on
  /// error the current ones all stay. Stored hops are then recomputed by the caller (``Reloader``).
  /// - Returns: The versions now in force.
  @discardableResult
  func reload(logger: Logger) throws -> String {
    let catalog = try CatalogFile.load(path: self.catalogFile)
    let calendar = try CalendarFiles.load(directory: self.calendarDirectory)
    let map = try AdministrativeMapFile.load(directory: self.mapDirectory)
    let (policy, policyHash) = try SlaPolicyFile.load(path: self.slaPolicyFile, map: map)
    try Self.checkPlaces(
      of: catalog,
      file: self.catalogFile,
      in: policy,
      policyFile: self.slaPolicyFile
    )
    let routes = try self.routesFile.map(AgencyRoutesFile.load)
    if let routes {
      self.routes.replace(with: routes)
      logger.info(
        "routing file loaded",
        metadata: [
          "routes.push": "\(routes.filter { $0.mode == .push }.count)",
          "routes.pull": "\(routes.filter { $0.mode == .pull }.count)",
        ]
      )
    }
    self.map.replace(with: map)
    self.catalog.replace(with: catalog)
    self.calendar.replace(with: calendar)
    self.slaPolicy.replace(with: policy)
    logger.info(
      "SLA policy loaded",
      metadata: ["sla.policy.version": "\(policy.version)", "sla.policy.sha256": "\(policyHash)"]
    )
    logger.info(
      "working calendars loaded",
      metadata: [
        "calendar.versions": "\(calendar.publishedYears.map(\.version).joined(separator: ","))"
      ]
    )
    logger.info(
      "procedure catalog loaded",
      metadata: [
        "catalog.version": "\(catalog.version)", "catalog.sha256": "\(catalog.contentHash)",
      ]
    )
    return catalog.version
  }

  /// Reads the revocation list again and puts it in force (callers it now refuses are cut off
  /// at their next call, and their open streams end). A list that does not verify, or is older
  /// than the one in force, changes nothing.
  /// - Returns: The list's sequence number.
  @discardableResult
  func reloadRevocations(logger: Logger) throws -> Int64 {
    let list = try RevocationListFile.load(path: self.revocationsFile, caPEM: self.clientCAPEM)
    let current = self.revocations.current
    guard list.sequence >= current.sequence else {
      throw ConfigurationError(
        "revocation list \(self.revocationsFile): sequence \(list.sequence) is older than \(current.sequence) in force"
      )
    }
    self.revocations.replace(with: list)
    logger.notice(
      "revocation list loaded",
      metadata: [
        "revocations.sequence": "\(list.sequence)",
        "revocations.certificates": "\(list.certificates.count)",
        "revocations.identities": "\(list.identities.count)",
        "revocations.device_keys": "\(list.deviceKeys.count)",
      ]
    )
    return list.sequence
  }

  /// Every agency of the catalog's directory must have a place in the SLA policy: without one
  /// no dossier could be registered for it (its route class would be unknown).
  /// - Throws: ``ConfigurationError`` naming the agencies and both files.
  static func checkPlaces(
    of catalog: ProcedureCatalog,
    file: String,
    in policy: SlaPolicy,
    policyFile: String
  ) throws {
    let missing = catalog.directory.keys.map(\.rawValue).filter { policy.places[$0] == nil }
    guard missing.isEmpty else {
      throw ConfigurationError(
        "procedure catalog \(file): agencies \(missing.sorted().joined(separator: ", ")) have no place in the SLA policy \(policyFile) (add them to its \"places\")"
      )
    }
  }

  static func bundledCalendars() throws -> String { try CalendarFiles.bundledDirectory }

  static func bundledAdminUnits() throws -> String { try AdministrativeMapFile.bundledDirectory }

  static func bundledSlaPolicy() throws -> String { try SlaPolicyFile.bundledPath }
}
