import ArgumentParser

/// `postal-gateway`: the server and a command-line client for it.
@main
struct PostalGatewayCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "postal-gateway",
    abstract: "The postal provider's gateway for Vietnam's one-stop administrative procedures.",
    discussion: """
      Start the service with `postal-gateway serve`; on first start it creates a development \
      PKI in ./postal-data/pki. The client commands (pickup, event, shipment, track) use those \
      certificates by default.
      """,
    subcommands: [
      Serve.self, PKICommand.self, PickupCommand.self, ProcedureCommand.self,
      CollectionCommand.self,
      ScanCommand.self, EventCommand.self, ResultCommand.self, DeliveryCommand.self,
      DamageCommand.self,
      ShipmentCommand.self, TrackCommand.self, KeysCommand.self, CustodyCommand.self,
      VerifyCommand.self,
      LogCommand.self, RolesCommand.self, AgencyCommand.self, HandoffsCommand.self,
      SLACommand.self, AccessCommand.self, BackupCommand.self, RestoreCommand.self,
      LoadCommand.self, AuditCommand.self, PersonCommand.self, EncryptionCommand.self,
      RateCommand.self, IndicatorsCommand.self, ProductivityCommand.self, WaitsCommand.self,
      ChartCommand.self,
      ScoresCommand.self, NotifyCommand.self, NotificationsCommand.self,
      QueueCommand.self, DatabaseCommand.self,
    ]
  )
}
