-- The send_limiter row paced summary broadcasts only; telegram_budget paces every
-- Bot API call the workers make (src/integrations/telegram/budget.ts).
-- DropTable
DROP TABLE "send_limiter";

-- CreateTable
CREATE TABLE "telegram_budget" (
    "id" TEXT NOT NULL,
    "bot_next_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paid_next_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "broadcast_next_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paused_until" TIMESTAMPTZ(6),
    "pruned_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telegram_budget_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "telegram_chat_slots" (
    "chat_id" BIGINT NOT NULL,
    "next_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "telegram_chat_slots_pkey" PRIMARY KEY ("chat_id")
);

-- Up to ~1,000 upserts a second during a paid broadcast, of rows that matter for a
-- second: no WAL for them. A crash empties the table, which forgets a second of
-- per-chat pacing at most.
ALTER TABLE "telegram_chat_slots" SET UNLOGGED;

-- One reservation on the bot's budget as one statement. It locks the bot's row
-- first (every reservation does, so they are serialised fleet-wide) and only then
-- reads the chats' rows: as a function, each statement sees what committed before
-- the lock was granted, where a single statement's snapshot would predate it.
--
-- Slots are laid out on the ordinary schedule (p_bot_spacing, seconds apart), or for
-- paid sends on the all-sends one (p_paid_spacing). A NULL spacing leaves that
-- schedule out: paid sends do not count on the ordinary one, p_broadcast_spacing is
-- set for summary broadcasts only. Nothing is reserved when the first slot would
-- begin more than p_horizon seconds from now. p_chats (distinct, one per slot, or
-- NULL for calls that put no message in a chat) get a per-chat slot each; a chat
-- whose own slot is not free yet is left out and reported in `deferred`.
--
-- p_release (with p_release_next_us, the next_at each was given, in Unix
-- microseconds) hands back chats' slots reserved earlier and not used: such a
-- chat is free again from its lost slot on, unless someone has reserved it since.
CREATE FUNCTION telegram_budget_reserve(
    p_key TEXT,
    p_count INTEGER,
    p_chats BIGINT[],
    p_bot_spacing DOUBLE PRECISION,
    p_paid_spacing DOUBLE PRECISION,
    p_broadcast_spacing DOUBLE PRECISION,
    p_chat_spacing DOUBLE PRECISION,
    p_horizon DOUBLE PRECISION,
    p_release BIGINT[],
    p_release_next_us BIGINT[]
) RETURNS TABLE (
    reserved INTEGER,
    start_ms DOUBLE PRECISION,
    spacing_ms DOUBLE PRECISION,
    chats BIGINT[],
    chats_next_us BIGINT[],
    deferred BIGINT[],
    deferred_ms DOUBLE PRECISION,
    paused_ms DOUBLE PRECISION,
    now_ms DOUBLE PRECISION
) LANGUAGE plpgsql AS $$
DECLARE
    b telegram_budget%ROWTYPE;
    v_now TIMESTAMPTZ;
    v_start TIMESTAMPTZ;
    v_spacing DOUBLE PRECISION := COALESCE(p_bot_spacing, p_paid_spacing);
    v_go BIGINT[];
    v_next_us BIGINT[];
    v_wait BIGINT[];
    v_ready TIMESTAMPTZ;
    v_n INTEGER := p_count;
    v_end TIMESTAMPTZ;
BEGIN
    SELECT * INTO b FROM telegram_budget WHERE id = p_key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO telegram_budget (id) VALUES (p_key) ON CONFLICT (id) DO NOTHING;
        SELECT * INTO b FROM telegram_budget WHERE id = p_key FOR UPDATE;
    END IF;
    v_now := clock_timestamp();
    IF p_release IS NOT NULL THEN
        UPDATE telegram_chat_slots s SET next_at = s.next_at - make_interval(secs => p_chat_spacing)
          FROM unnest(p_release, p_release_next_us) AS r(chat_id, next_us)
         WHERE s.chat_id = r.chat_id AND (EXTRACT(EPOCH FROM s.next_at) * 1000000)::BIGINT = r.next_us;
    END IF;
    -- GREATEST ignores NULLs: the schedules this reservation is not on.
    v_start := GREATEST(v_now, b.paused_until,
        CASE WHEN p_bot_spacing IS NOT NULL THEN b.bot_next_at END,
        CASE WHEN p_paid_spacing IS NOT NULL THEN b.paid_next_at END,
        CASE WHEN p_broadcast_spacing IS NOT NULL THEN b.broadcast_next_at END);

    IF v_start > v_now + make_interval(secs => p_horizon) THEN
        v_n := 0;
    ELSIF p_chats IS NOT NULL THEN
        SELECT array_agg(c.id ORDER BY c.ord) FILTER (WHERE s.next_at IS NULL OR s.next_at <= v_start),
               array_agg(c.id ORDER BY c.ord) FILTER (WHERE s.next_at > v_start),
               min(s.next_at) FILTER (WHERE s.next_at > v_start)
          INTO v_go, v_wait, v_ready
          FROM unnest(p_chats) WITH ORDINALITY AS c(id, ord)
          LEFT JOIN telegram_chat_slots s ON s.chat_id = c.id;
        v_n := COALESCE(cardinality(v_go), 0);
        IF v_n > 0 THEN
            WITH given AS (
                INSERT INTO telegram_chat_slots (chat_id, next_at)
                SELECT g.id, v_start + make_interval(secs => (g.ord - 1) * v_spacing + p_chat_spacing)
                  FROM unnest(v_go) WITH ORDINALITY AS g(id, ord)
                ON CONFLICT (chat_id) DO UPDATE SET next_at = EXCLUDED.next_at
                RETURNING chat_id, next_at
            )
            SELECT array_agg((EXTRACT(EPOCH FROM given.next_at) * 1000000)::BIGINT ORDER BY g.ord) INTO v_next_us
              FROM unnest(v_go) WITH ORDINALITY AS g(id, ord) JOIN given ON given.chat_id = g.id;
        END IF;
    END IF;

    IF v_n > 0 THEN
        UPDATE telegram_budget SET
            bot_next_at = CASE WHEN p_bot_spacing IS NULL THEN bot_next_at
                ELSE v_start + make_interval(secs => v_n * v_spacing) END,
            -- The last slot of the run, plus one slot of the all-sends schedule.
            paid_next_at = CASE WHEN p_paid_spacing IS NULL THEN paid_next_at
                ELSE v_start + make_interval(secs => (v_n - 1) * v_spacing + p_paid_spacing) END,
            broadcast_next_at = CASE WHEN p_broadcast_spacing IS NULL THEN broadcast_next_at
                ELSE v_start + make_interval(secs => v_n * p_broadcast_spacing) END,
            updated_at = v_now
        WHERE id = p_key;
    END IF;

    IF b.pruned_at < v_now - interval '10 seconds' THEN
        DELETE FROM telegram_chat_slots WHERE next_at < v_now;
        UPDATE telegram_budget SET pruned_at = v_now WHERE id = p_key;
    END IF;

    -- Times as milliseconds from now, and now by this server's clock (Unix ms): the caller
    -- maps them onto its own clock.
    v_end := clock_timestamp();
    RETURN QUERY SELECT
        v_n,
        (EXTRACT(EPOCH FROM v_start - v_end) * 1000)::DOUBLE PRECISION,
        v_spacing * 1000,
        COALESCE(v_go, '{}'::BIGINT[]),
        COALESCE(v_next_us, '{}'::BIGINT[]),
        COALESCE(v_wait, '{}'::BIGINT[]),
        (EXTRACT(EPOCH FROM v_ready - v_end) * 1000)::DOUBLE PRECISION,
        COALESCE(EXTRACT(EPOCH FROM b.paused_until - v_end) * 1000, 0)::DOUBLE PRECISION,
        (EXTRACT(EPOCH FROM v_end) * 1000)::DOUBLE PRECISION;
END
$$;
