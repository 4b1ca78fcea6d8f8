-- 0006_sessions: agency sessions and leases on acked cases (issue 8;
-- proto/motcua/v1/agency.proto rules 6 and 7, docs/pipeline.md "Agencies").
-- An acked case belongs to the session that acked it only while that
-- session's lease runs; motcua-lienthong renews the leases of the sessions
-- it hears from and offers the cases of a lapsed session again.

-- agency_session: one incarnation of an agency's software (Ready.session),
-- or one connection of an older client that sends no session
CREATE TABLE agency_session (
    session      text        PRIMARY KEY,            -- Ready.session (16..64 printable ASCII) or the hub's "hub-<epoch>-<n>"
    agency       text        NOT NULL,               -- agency code from the CURVE key (ZAP), never from a frame
    hub_epoch    bigint      NOT NULL,               -- the lienthong incarnation that last renewed it (uint64 stored as its signed bits)
    connected    boolean     NOT NULL DEFAULT true,  -- a connection of this session was live at the last renewal
    ready        boolean     NOT NULL DEFAULT false, -- it said Ready on a live connection (the hub may send it cases)
    credit       integer     NOT NULL DEFAULT 0,     -- cases the agency still accepts, as the hub counted at the last renewal
    in_flight    integer     NOT NULL DEFAULT 0,     -- cases sent to it and not acked yet, at the last renewal
    started_at   timestamptz NOT NULL DEFAULT now(), -- first seen
    seen_at      timestamptz NOT NULL DEFAULT now(), -- last renewal (the hub heard from it)
    lease_until  timestamptz NOT NULL                -- its acked cases are offered again once this has passed
);
CREATE INDEX agency_session_agency_idx ON agency_session (agency);

-- the session that acked the case (agency_session.session); only read
-- while the case is acked (state 3). NULL on cases acked before this
-- migration: such a lease counts as run out, so the next lease scan offers
-- them again (this heals stores stuck by issue 8's lost Ready).
ALTER TABLE agency_case ADD COLUMN lease_session text;
-- acked (state 3 = MC_CASE_ACKED) cases by holder: the lease scan and resync
CREATE INDEX agency_case_lease_idx ON agency_case (lease_session) WHERE state = 3;
