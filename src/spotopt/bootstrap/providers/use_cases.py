"""Use cases and application services, REQUEST scope."""

from __future__ import annotations

from dishka import Provider, Scope, provide_all

from spotopt.application.agents.get_agent_config import GetAgentConfig
from spotopt.application.agents.placement import Placement
from spotopt.application.agents.record_heartbeat import RecordHeartbeat
from spotopt.application.agents.register_agent import RegisterAgent
from spotopt.application.agents.report_cleanup import ReportCleanup
from spotopt.application.agents.report_termination import ReportTermination
from spotopt.application.clients.create_client import CreateClient
from spotopt.application.clients.regenerate_client_token import RegenerateClientToken
from spotopt.application.commands.acknowledge_command import AcknowledgeCommand
from spotopt.application.commands.issue_switch import IssueSwitch
from spotopt.application.commands.poll_commands import PollCommands
from spotopt.application.commands.report_switch import ReportSwitch
from spotopt.application.commands.sweep_commands import SweepCommands
from spotopt.application.decisions.decide_for_agent import DecideForAgent
from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.decisions.evaluate_auto_switch import EvaluateAutoSwitch
from spotopt.application.interruptions.coordinate_replicas import CoordinateReplicas
from spotopt.application.interruptions.episode_watch import EpisodeWatch
from spotopt.application.interruptions.handle_interruption_signal import HandleInterruptionSignal
from spotopt.application.interruptions.handle_rebalance_recommendation import HandleRebalanceRecommendation
from spotopt.application.interruptions.handle_termination_imminent import HandleTerminationImminent
from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.ledger.accrue_ledger import AccrueLedger
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ledger.snapshot_client_growth import SnapshotClientGrowth
from spotopt.application.ledger.snapshot_savings import SnapshotSavings
from spotopt.application.pricing.aggregate_pricing import AggregatePricing
from spotopt.application.pricing.fill_price_gaps import FillPriceGaps
from spotopt.application.pricing.record_pricing_report import RecordPricingReport
from spotopt.application.replicas.attach_replica_instance import AttachReplicaInstance
from spotopt.application.replicas.create_replica import CreateReplica
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.list_replicas import ListReplicas
from spotopt.application.replicas.pools import ReplicaPools
from spotopt.application.replicas.promote_replica import PromoteReplica
from spotopt.application.replicas.promotion import Promotion
from spotopt.application.replicas.report_replica_status import ReportReplicaStatus
from spotopt.application.replicas.report_replica_sync import ReportReplicaSync
from spotopt.application.replicas.retire_replica import RetireReplica
from spotopt.application.replicas.standby_upkeep import StandbyUpkeep
from spotopt.application.replicas.supply import ReplicaSupply
from spotopt.application.system.authenticate import Authenticate
from spotopt.application.system.clean_retention import CleanRetention
from spotopt.application.system.create_admin_token import CreateAdminToken
from spotopt.application.system.get_health import GetHealth
from spotopt.application.system.list_agents_for_job import ListAgentsForJob
from spotopt.application.system.record_auth_failure import RecordAuthFailure


class UseCasesProvider(Provider):
    scope = Scope.REQUEST
    services = provide_all(LedgerBook, Placement, ListAgentsForJob, RecordAuthFailure)
    replica_services = provide_all(
        ReplicaPools, ReplicaSupply, Promotion, Failover, ReplicaEffects, SignalHandling, EpisodeWatch, StandbyUpkeep
    )
    replica_use_cases = provide_all(
        AttachReplicaInstance,
        CoordinateReplicas,
        CreateReplica,
        HandleInterruptionSignal,
        HandleRebalanceRecommendation,
        HandleTerminationImminent,
        ListReplicas,
        PromoteReplica,
        ReportReplicaStatus,
        ReportReplicaSync,
        RetireReplica,
    )
    decisions = provide_all(DecisionInputs, DecideForAgent, EvaluateAutoSwitch, IssueSwitch)
    ledger_jobs = provide_all(AccrueLedger, CleanRetention, SnapshotClientGrowth, SnapshotSavings, SweepCommands)
    use_cases = provide_all(
        AcknowledgeCommand,
        AggregatePricing,
        Authenticate,
        CreateAdminToken,
        CreateClient,
        FillPriceGaps,
        GetAgentConfig,
        GetHealth,
        PollCommands,
        RecordHeartbeat,
        RecordPricingReport,
        RegenerateClientToken,
        RegisterAgent,
        ReportCleanup,
        ReportSwitch,
        ReportTermination,
    )
