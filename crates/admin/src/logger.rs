//! The `Logger` service of both admin APIs, and its client side.
//!
//! Both packages declare the same three methods over `lanyard.types.v1` messages, so one
//! [`LoggerService`] implements both generated traits and one [`LoggerCommand`] drives either.

use lanyard_observe::LogLevel;
use lanyard_proto::lanyard::admin::v1::logger_client::LoggerClient as ServerLoggerClient;
use lanyard_proto::lanyard::admin::v1::logger_server::Logger as ServerLogger;
use lanyard_proto::lanyard::agent::admin::v1::logger_client::LoggerClient as AgentLoggerClient;
use lanyard_proto::lanyard::agent::admin::v1::logger_server::Logger as AgentLogger;
use lanyard_proto::lanyard::types::v1::{
    GetLoggerRequest, Logger, ResetLogLevelRequest, SetLogLevelRequest,
};
use tonic::transport::Channel;
use tonic::transport::server::UdsConnectInfo;
use tonic::{Request, Response, Status};

/// Serves `Logger` over the process's log filter (`lanyard_observe::installed_log_level`): a
/// process that did not set logging up (a server run inside a test) answers `Unavailable`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggerService;

impl LoggerService {
    fn level(self) -> Result<LogLevel, Status> {
        lanyard_observe::installed_log_level().ok_or_else(|| {
            Status::unavailable("this process has no log filter to change (logging is not set up)")
        })
    }

    fn get(self) -> Result<Response<Logger>, Status> {
        let level = self.level()?;
        Ok(Response::new(Logger {
            current_level: level.current(),
            launch_level: level.launch().to_owned(),
        }))
    }

    fn set<T>(self, request: &Request<T>, to: &str) -> Result<Response<Logger>, Status> {
        let level = self.level()?;
        // Refused before the audit line: nothing changes.
        lanyard_observe::check_log_level(to)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // Logged before the change, so it is written under the filter being left (a change to
        // `error` would hide a line written after it).
        audit(request, "logger.set", to);
        level
            .set(to)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        self.get()
    }

    fn reset<T>(self, request: &Request<T>) -> Result<Response<Logger>, Status> {
        let level = self.level()?;
        audit(request, "logger.reset", level.launch());
        level.reset().map_err(|e| Status::internal(e.to_string()))?;
        self.get()
    }
}

/// One admin action in the audit log's field scheme (ARCHITECTURE.md, "Audit log").
fn audit<T>(request: &Request<T>, action: &'static str, log_level: &str) {
    let caller = request
        .extensions()
        .get::<UdsConnectInfo>()
        .and_then(|info| info.peer_cred)
        .map_or_else(|| "admin-socket".to_owned(), |c| format!("uid:{}", c.uid()));
    tracing::info!(target: "audit", caller = %caller, action, log_level, "log level changed");
}

/// The generated `Logger` trait of one package, implemented by [`LoggerService`]'s methods.
macro_rules! serve_logger {
    ($trait:path) => {
        #[tonic::async_trait]
        impl $trait for LoggerService {
            async fn get_logger(
                &self,
                _: Request<GetLoggerRequest>,
            ) -> Result<Response<Logger>, Status> {
                self.get()
            }

            async fn set_log_level(
                &self,
                request: Request<SetLogLevelRequest>,
            ) -> Result<Response<Logger>, Status> {
                self.set(&request, &request.get_ref().level)
            }

            async fn reset_log_level(
                &self,
                request: Request<ResetLogLevelRequest>,
            ) -> Result<Response<Logger>, Status> {
                self.reset(&request)
            }
        }
    };
}

serve_logger!(ServerLogger);
serve_logger!(AgentLogger);

/// Sends a [`LoggerCommand`] with one package's generated client.
macro_rules! call_logger {
    ($command:expr, $client:expr) => {{
        let mut client = $client;
        let answer = match $command {
            LoggerCommand::Show => client.get_logger(GetLoggerRequest {}).await,
            LoggerCommand::Set(level) => {
                client
                    .set_log_level(SetLogLevelRequest {
                        level: level.clone(),
                    })
                    .await
            }
            LoggerCommand::Reset => client.reset_log_level(ResetLogLevelRequest {}).await,
        };
        answer.map(Response::into_inner)
    }};
}

/// A `logger` command of either CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoggerCommand {
    /// `logger show`.
    Show,
    /// `logger set --level <LEVEL>`.
    Set(String),
    /// `logger reset`.
    Reset,
}

impl LoggerCommand {
    /// What the command does, for an error line (`set log level : <server message>`).
    pub fn what(&self) -> &'static str {
        match self {
            LoggerCommand::Show => "show log level",
            LoggerCommand::Set(_) => "set log level",
            LoggerCommand::Reset => "reset log level",
        }
    }

    /// Sends the command to a server's admin socket.
    pub async fn to_server(&self, channel: Channel) -> Result<Logger, Status> {
        call_logger!(self, ServerLoggerClient::new(channel))
    }

    /// Sends the command to an agent's admin socket.
    pub async fn to_agent(&self, channel: Channel) -> Result<Logger, Status> {
        call_logger!(self, AgentLoggerClient::new(channel))
    }
}

/// The answer as the CLIs print it: two lines of text, or the message as proto3 JSON.
pub fn render_logger(logger: &Logger, json: bool) -> String {
    if json {
        // The generated serializer fails only on non-finite floats, which `Logger` has none of.
        let mut out = serde_json::to_string_pretty(logger).unwrap_or_default();
        out.push('\n');
        out
    } else {
        format!(
            "current level: {}\nlaunch level:  {}\n",
            logger.current_level, logger.launch_level
        )
    }
}
