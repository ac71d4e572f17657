//! The store's conformance suite: every scenario runs on SQLite, and on PostgreSQL when
//! `SWITCHBOARD_TEST_DATABASE_URL` names a server (each test in a database of its own,
//! dropped afterwards). With `SWITCHBOARD_REQUIRE_SERVICES=1` a missing server fails the
//! PostgreSQL tests instead of skipping them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backends;
mod fixtures;
mod scenarios;

macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                crate::backends::on_sqlite(|store| Box::pin(crate::scenarios::$scenario(store))).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                crate::backends::on_postgres(|store| Box::pin(crate::scenarios::$scenario(store))).await;
            })*
        }
    };
}

conformance!(
    operator_and_sign_in_lookup,
    tenants_are_created_with_their_administrator,
    sessions_expire_and_can_be_ended,
    queue_names_are_unique_per_tenant,
    queues_in_use_cannot_be_deleted,
    queue_type_and_route_media_type_are_immutable,
    routes_must_match_their_queue_type,
    agents_respect_skills_and_tenant_limits,
    employees_are_listed_with_filters_and_paging,
    batch_configuration_is_all_or_nothing,
    channels_keep_secrets_sealed_and_write_only,
    platform_identifiers_belong_to_one_channel,
    exports_record_files_and_resume,
    no_tenant_reaches_another_tenants_records,
    lowering_limits_below_usage_is_refused,
    messages_are_numbered_in_order_and_retries_stored_once,
    concurrent_appends_never_share_skip_or_repeat_a_number,
    a_burst_of_appends_is_judged_one_by_one,
    committed_messages_are_announced_in_order_before_their_answer,
    ended_conversations_take_no_more_messages,
    customers_are_recognised_and_their_open_conversation_found,
    conversations_stay_inside_their_tenant,
    evaluations_need_an_agent_answer_and_the_last_counts,
    files_keep_their_bytes_and_stay_in_their_conversation,
    widget_sessions_expire_and_signatures_are_used_once,
    a_chat_opening_reads_the_open_conversation_and_the_route,
    routing_keeps_places_assignments_and_the_contact_record,
    conversations_open_with_routings_first_decisions,
    opened_conversations_land_where_their_moves_take_them,
    platform_deliveries_are_stored_once_until_processed,
    replies_to_platform_customers_are_queued_and_sent_in_order,
);

/// A scenario that opens the store again on the same database, as a restart does.
mod restarted {
    #[tokio::test]
    async fn retries_are_told_after_a_restart_on_sqlite() {
        crate::backends::on_sqlite_with_address(|store, url| {
            Box::pin(crate::scenarios::retries_are_told_after_a_restart(
                store, url,
            ))
        })
        .await;
    }

    #[tokio::test]
    async fn retries_are_told_after_a_restart_on_postgres() {
        crate::backends::on_postgres_with_address(|store, url| {
            Box::pin(crate::scenarios::retries_are_told_after_a_restart(
                store, url,
            ))
        })
        .await;
    }
}

/// Scenarios of several nodes sharing one database, which only PostgreSQL serves.
mod postgres_cluster {
    #[tokio::test]
    async fn a_conversation_closed_while_a_message_is_stored_refuses_it() {
        crate::backends::on_postgres_with_address(|store, url| {
            Box::pin(
                crate::scenarios::a_conversation_closed_while_a_message_is_stored_refuses_it(
                    store, url,
                ),
            )
        })
        .await;
    }

    #[tokio::test]
    async fn nodes_of_a_cluster_never_share_skip_or_repeat_a_number() {
        crate::backends::on_postgres_cluster(|first, second| {
            Box::pin(
                crate::scenarios::nodes_of_a_cluster_never_share_skip_or_repeat_a_number(
                    first, second,
                ),
            )
        })
        .await;
    }
}
