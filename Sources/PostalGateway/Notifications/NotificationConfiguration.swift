extension GatewayConfiguration {
  /// Messages to citizens (SMS, Zalo) and to subscribed systems (signed webhooks). Every key
  /// is optional; without `sms`, `zalo` and `webhooks` nothing is sent and citizens can only
  /// choose no messages.
  ///
  /// ```json
  /// "notifications": {
  ///   "trackingPage": "https://tracuu.buudien.example.vn/",
  ///   "sms": { "url": "https://sms.example.vn/v1/messages", "sender": "VNPOST",
  ///            "tokenFile": "/etc/postal-gateway/sms-token", "trustRoots": "sms-ca.pem",
  ///            "quietHours": "21:00-07:00", "ratePerSecond": 20 },
  ///   "zalo": { "url": "https://business.openapi.zalo.me/message/template",
  ///             "accessTokenEnvironment": "ZALO_ACCESS_TOKEN",
  ///             "templates": { "RECEIVED": "301234", "FILED": "301235", … } },
  ///   "webhooks": [ { "id": "h55-portal", "url": "https://dvc.example.vn/hooks/postal",
  ///                   "secretsFile": "/etc/postal-gateway/h55-portal.secrets",
  ///                   "agencies": ["000.00.00.H55"], "kinds": ["FILED", "RESULT_READY"] } ],
  ///   "retrySeconds": [5, 300, 1800, 7200, 18000, 36000, 36000], "retryJitter": 0.2,
  ///   "attemptTimeoutMilliseconds": 10000, "maximumInFlight": 8
  /// }
  /// ```
  ///
  /// Credentials come from a file or an environment variable, never from this file and never
  /// into a log. A webhook's secrets file holds one `whsec_…` secret per line: every secret in
  /// it signs each message (so a receiver can switch during a rotation), and it is read at each
  /// send (a rotation needs no restart).
  struct Notifications: Sendable, Equatable, Decodable {
    /// An SMS provider that takes JSON over HTTPS.
    struct Sms: Sendable, Equatable, Decodable {
      /// Where messages are posted.
      var url: String
      /// The brand name the SMS comes from.
      var sender: String?
      /// A file holding the bearer token.
      var tokenFile: String?
      /// Or an environment variable holding it.
      var tokenEnvironment: String?
      /// The CA certificates (PEM) that sign the provider's certificate; the system's when
      /// absent.
      var trustRoots: String?
      /// `HH:MM-HH:MM` (Vietnam time) when nothing is sent; `21:00-07:00` when absent, `""`
      /// for none.
      var quietHours: String?
      /// Messages per second at most (default 10).
      var ratePerSecond: Double?
    }

    /// Zalo Notification Service: template messages to a phone number.
    struct Zalo: Sendable, Equatable, Decodable {
      /// The ZNS template-message endpoint.
      var url: String
      /// A file holding the official account's access token.
      var accessTokenFile: String?
      /// Or an environment variable holding it.
      var accessTokenEnvironment: String?
      /// The approved template's id for every kind (`RECEIVED`, `FILED`,
      /// `SUPPLEMENT_REQUESTED`, `RESULT_READY`, `DELIVERY_ATTEMPT`, `RETURNED`).
      var templates: [String: String]
      /// As for SMS.
      var trustRoots: String?
      /// As for SMS; none when absent.
      var quietHours: String?
      /// Messages per second at most (default 10).
      var ratePerSecond: Double?
    }

    /// A system subscribed to dossier events.
    struct Webhook: Sendable, Equatable, Decodable {
      /// Its id (letters, digits, `-`, `_`; at most 40).
      var id: String
      /// Where events are posted.
      var url: String
      /// A file of `whsec_…` secrets, one per line.
      var secretsFile: String
      /// Only these agencies' dossiers (all when absent).
      var agencies: [String]?
      /// Only these kinds (all when absent).
      var kinds: [String]?
      /// As for SMS.
      var trustRoots: String?
      /// Messages per second at most (default 50).
      var ratePerSecond: Double?
    }

    /// The public tracking page's address in messages; the web listener's when absent.
    var trackingPage: String?
    var sms: Sms?
    var zalo: Zalo?
    var webhooks: [Webhook]?
    /// The delays after each failure, in seconds (Standard Webhooks' when absent).
    var retrySeconds: [Int]?
    /// The share of each delay drawn at random either side (default 0.2).
    var retryJitter: Double?
    /// How long one attempt may take (default 10 s).
    var attemptTimeoutMilliseconds: Int?
    /// Messages sent at once at most (default 8).
    var maximumInFlight: Int?
  }
}
