//! The stored configuration, as the router is told it.

use switchboard_domain::channel::{AgentTimeoutTarget, ChannelConfig};
use switchboard_domain::queue::{OverflowAction, SkillQueueConfig};
use switchboard_domain::tenant::TenantSettings;
use switchboard_routing::{
    AgentSilence, ChannelSettings, Event, Overflow, QueueSettings, SilentAgentTransfer,
};
use switchboard_store::{all_pages, ChannelFilter, QueueFilter, StoreError};

const MINUTE_MS: i64 = 60_000;

pub fn queue_settings(config: &SkillQueueConfig) -> QueueSettings {
    let overflow = |action| match action {
        OverflowAction::Release => Overflow::Release,
        OverflowAction::Transfer { queue_id } => Overflow::Transfer(queue_id),
    };
    QueueSettings {
        max_queued: usize::try_from(config.max_queued).unwrap_or(usize::MAX),
        max_wait_ms: i64::from(config.max_waiting_seconds) * 1000,
        wrap_up_ms: i64::from(config.wrap_up_seconds) * 1000,
        on_timeout: overflow(config.policies.skill_timeout),
        on_busy: overflow(config.policies.skill_busy),
        on_no_agents: overflow(config.policies.no_agents),
    }
}

/// A channel's routing settings; a transfer on agent silence names a called route,
/// which is looked up for its queue.
pub async fn channel_settings(
    scope: &switchboard_store::TenantScope<'_>,
    config: &ChannelConfig,
) -> Result<ChannelSettings, StoreError> {
    let timeout = &config.customer_timeout;
    let agent_silence = match &config.agent_timeout {
        silence if silence.enabled => {
            let transfer = match (silence.transfer_to, silence.called_route_id) {
                (AgentTimeoutTarget::Queue, Some(route)) => {
                    SilentAgentTransfer::Queue(scope.route(route).await?.config.skill_queue_id)
                }
                _ => SilentAgentTransfer::OtherAgent,
            };
            Some(AgentSilence {
                after_ms: i64::from(silence.after_seconds) * 1000,
                transfer,
            })
        }
        _ => None,
    };
    Ok(ChannelSettings {
        work_time: config.work_time.clone(),
        out_of_hours_notice: config.non_working_time_notice.clone(),
        offline_messages: config.offline_messages,
        reminder_interval_ms: i64::from(config.queue_reminder.interval_seconds) * 1000,
        reminder_text: config.queue_reminder.content.clone(),
        last_agent_wait_ms: config
            .last_agent_mode
            .enabled
            .then(|| i64::from(config.last_agent_mode.wait_seconds) * 1000),
        silence_prompt_ms: timeout
            .prompt_after_minutes
            .filter(|_| timeout.enabled)
            .map(|minutes| i64::from(minutes) * MINUTE_MS),
        silence_prompt_text: timeout.prompt.clone(),
        silence_end_ms: i64::from(timeout.effective_end_after_minutes()) * MINUTE_MS,
        conclusion_text: timeout.conclusion.clone(),
        agent_silence,
    })
}

/// Everything the router of a tenant is told before its first event.
pub async fn configuration(
    scope: &switchboard_store::TenantScope<'_>,
    tenant: &TenantSettings,
) -> Result<Vec<Event>, StoreError> {
    let mut events = vec![Event::CalendarConfigured {
        calendar: tenant.calendar(),
    }];
    let (every_queue, every_channel) = (QueueFilter::default(), ChannelFilter::default());
    let queues = all_pages(|page| scope.list_queues(page, &every_queue)).await?;
    events.extend(queues.iter().map(|queue| Event::QueueConfigured {
        queue: queue.id,
        settings: queue_settings(&queue.config),
    }));
    let channels = all_pages(|page| scope.list_channels(page, &every_channel)).await?;
    for channel in &channels {
        events.push(Event::ChannelConfigured {
            channel: channel.channel_config_id,
            settings: channel_settings(scope, &channel.config).await?,
        });
    }
    Ok(events)
}
