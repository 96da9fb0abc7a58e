-- The schema at version 2 (onboarding, SLA), as PostgreSQL DDL (pg_dump): tests migrate it upward.


CREATE TABLE public.account (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    tier character varying(100),
    engineer character varying(320),
    timezone character varying(64) NOT NULL,
    origin character varying(20) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE public.account_domain (
    id integer NOT NULL,
    account_id integer NOT NULL,
    domain character varying(253) NOT NULL
);

CREATE SEQUENCE public.account_domain_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.account_domain_id_seq OWNED BY public.account_domain.id;

CREATE SEQUENCE public.account_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.account_id_seq OWNED BY public.account.id;

CREATE TABLE public.contact (
    id integer NOT NULL,
    account_id integer,
    email character varying(320) NOT NULL,
    name character varying(200) NOT NULL,
    role character varying(100) NOT NULL,
    failing_since timestamp without time zone,
    failure text NOT NULL
);

CREATE SEQUENCE public.contact_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.contact_id_seq OWNED BY public.contact.id;

CREATE TABLE public.engagement (
    id integer NOT NULL,
    account_id integer NOT NULL,
    engineer character varying(320),
    tier character varying(100),
    contract_id character varying(200) NOT NULL,
    close_date date,
    sales_rep character varying(320) NOT NULL,
    golive_date date,
    status character varying(20) NOT NULL,
    ticket_id integer,
    details text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    playbook character varying(100)
);

CREATE SEQUENCE public.engagement_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.engagement_id_seq OWNED BY public.engagement.id;

CREATE TABLE public.inbound_message (
    id integer NOT NULL,
    dedupe_key character varying(1000) NOT NULL,
    message_id character varying(1000),
    mailbox character varying(200) NOT NULL,
    source_key character varying(500) NOT NULL,
    status character varying(20) NOT NULL,
    kind character varying(20),
    ticket_id integer,
    received_at timestamp without time zone NOT NULL,
    date_header timestamp without time zone,
    from_addr character varying(320) NOT NULL,
    from_name character varying(200) NOT NULL,
    to_addrs text NOT NULL,
    cc_addrs text NOT NULL,
    subject text NOT NULL,
    in_reply_to text NOT NULL,
    "references" text NOT NULL,
    body_text text NOT NULL,
    body_html text,
    attachments text NOT NULL,
    origin_reason text NOT NULL,
    failed_recipients text NOT NULL,
    size integer NOT NULL,
    raw bytea NOT NULL,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.inbound_message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.inbound_message_id_seq OWNED BY public.inbound_message.id;

CREATE TABLE public.intake_record (
    id integer NOT NULL,
    mailbox character varying(200) NOT NULL,
    key character varying(500) NOT NULL,
    outcome character varying(20) NOT NULL,
    acked boolean NOT NULL,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.intake_record_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.intake_record_id_seq OWNED BY public.intake_record.id;

CREATE TABLE public.mailbox_state (
    name character varying(200) NOT NULL,
    cursor character varying(200),
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE public.meeting (
    id integer NOT NULL,
    engagement_id integer NOT NULL,
    key character varying(100) NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    uid character varying(255) NOT NULL,
    sequence integer NOT NULL,
    start timestamp without time zone,
    "end" timestamp without time zone,
    status character varying(20) NOT NULL,
    note text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE public.meeting_attendee (
    id integer NOT NULL,
    meeting_id integer NOT NULL,
    email character varying(320) NOT NULL,
    name character varying(200) NOT NULL,
    role character varying(100) NOT NULL,
    required boolean NOT NULL,
    partstat character varying(20) NOT NULL,
    answered_at timestamp without time zone,
    comment text NOT NULL
);

CREATE SEQUENCE public.meeting_attendee_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.meeting_attendee_id_seq OWNED BY public.meeting_attendee.id;

CREATE SEQUENCE public.meeting_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.meeting_id_seq OWNED BY public.meeting.id;

CREATE TABLE public.outbound_message (
    id integer NOT NULL,
    message_id character varying(1000) NOT NULL,
    ticket_id integer,
    purpose character varying(50) NOT NULL,
    recipients text NOT NULL,
    subject text NOT NULL,
    raw bytea NOT NULL,
    status character varying(20) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone NOT NULL,
    last_error text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone,
    envelope_from character varying(320) NOT NULL,
    engagement_id integer,
    draft text NOT NULL
);

CREATE SEQUENCE public.outbound_message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.outbound_message_id_seq OWNED BY public.outbound_message.id;

CREATE TABLE public.quarantine (
    id integer NOT NULL,
    message_id integer NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    released_at timestamp without time zone
);

CREATE SEQUENCE public.quarantine_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.quarantine_id_seq OWNED BY public.quarantine.id;

CREATE TABLE public.sla_notice (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    clock character varying(30) NOT NULL,
    kind character varying(30) NOT NULL,
    recipient character varying(320) NOT NULL,
    due_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.sla_notice_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.sla_notice_id_seq OWNED BY public.sla_notice.id;

CREATE TABLE public.ticket (
    id integer NOT NULL,
    kind character varying(30) NOT NULL,
    status character varying(20) NOT NULL,
    priority character varying(4) NOT NULL,
    subject text NOT NULL,
    requester character varying(320) NOT NULL,
    requester_name character varying(200) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    account_id integer,
    assignee character varying(320),
    assigned_at timestamp without time zone,
    review boolean NOT NULL,
    reasons text NOT NULL,
    assignment text NOT NULL,
    cutover_date date,
    cutover_text text NOT NULL,
    refers_to integer,
    first_response_at timestamp without time zone,
    resolved_at timestamp without time zone,
    sla_policy character varying(100),
    first_response_due timestamp without time zone,
    resolution_due timestamp without time zone,
    first_response_state character varying(20) NOT NULL,
    resolution_state character varying(20) NOT NULL,
    next_sla_check timestamp without time zone
);

CREATE TABLE public.ticket_event (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    at timestamp without time zone NOT NULL,
    kind character varying(40) NOT NULL,
    actor character varying(320) NOT NULL,
    detail text NOT NULL
);

CREATE SEQUENCE public.ticket_event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.ticket_event_id_seq OWNED BY public.ticket_event.id;

CREATE SEQUENCE public.ticket_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.ticket_id_seq OWNED BY public.ticket.id;

CREATE TABLE public.wg_schema (
    id integer NOT NULL,
    version integer NOT NULL
);

CREATE SEQUENCE public.wg_schema_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.wg_schema_id_seq OWNED BY public.wg_schema.id;

ALTER TABLE ONLY public.account ALTER COLUMN id SET DEFAULT nextval('public.account_id_seq'::regclass);

ALTER TABLE ONLY public.account_domain ALTER COLUMN id SET DEFAULT nextval('public.account_domain_id_seq'::regclass);

ALTER TABLE ONLY public.contact ALTER COLUMN id SET DEFAULT nextval('public.contact_id_seq'::regclass);

ALTER TABLE ONLY public.engagement ALTER COLUMN id SET DEFAULT nextval('public.engagement_id_seq'::regclass);

ALTER TABLE ONLY public.inbound_message ALTER COLUMN id SET DEFAULT nextval('public.inbound_message_id_seq'::regclass);

ALTER TABLE ONLY public.intake_record ALTER COLUMN id SET DEFAULT nextval('public.intake_record_id_seq'::regclass);

ALTER TABLE ONLY public.meeting ALTER COLUMN id SET DEFAULT nextval('public.meeting_id_seq'::regclass);

ALTER TABLE ONLY public.meeting_attendee ALTER COLUMN id SET DEFAULT nextval('public.meeting_attendee_id_seq'::regclass);

ALTER TABLE ONLY public.outbound_message ALTER COLUMN id SET DEFAULT nextval('public.outbound_message_id_seq'::regclass);

ALTER TABLE ONLY public.quarantine ALTER COLUMN id SET DEFAULT nextval('public.quarantine_id_seq'::regclass);

ALTER TABLE ONLY public.sla_notice ALTER COLUMN id SET DEFAULT nextval('public.sla_notice_id_seq'::regclass);

ALTER TABLE ONLY public.ticket ALTER COLUMN id SET DEFAULT nextval('public.ticket_id_seq'::regclass);

ALTER TABLE ONLY public.ticket_event ALTER COLUMN id SET DEFAULT nextval('public.ticket_event_id_seq'::regclass);

ALTER TABLE ONLY public.wg_schema ALTER COLUMN id SET DEFAULT nextval('public.wg_schema_id_seq'::regclass);

ALTER TABLE ONLY public.account_domain
    ADD CONSTRAINT account_domain_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.contact
    ADD CONSTRAINT contact_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.engagement
    ADD CONSTRAINT engagement_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.inbound_message
    ADD CONSTRAINT inbound_message_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.intake_record
    ADD CONSTRAINT intake_record_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mailbox_state
    ADD CONSTRAINT mailbox_state_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.meeting_attendee
    ADD CONSTRAINT meeting_attendee_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.meeting
    ADD CONSTRAINT meeting_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.outbound_message
    ADD CONSTRAINT outbound_message_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sla_notice
    ADD CONSTRAINT sla_notice_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ticket_event
    ADD CONSTRAINT ticket_event_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.wg_schema
    ADD CONSTRAINT wg_schema_pkey PRIMARY KEY (id);

CREATE INDEX account_domain_account_id ON public.account_domain USING btree (account_id);

CREATE UNIQUE INDEX account_domain_domain ON public.account_domain USING btree (domain);

CREATE UNIQUE INDEX account_name ON public.account USING btree (name);

CREATE INDEX contact_account_id ON public.contact USING btree (account_id);

CREATE UNIQUE INDEX contact_email ON public.contact USING btree (email);

CREATE INDEX engagement_account_id ON public.engagement USING btree (account_id);

CREATE UNIQUE INDEX engagement_account_id_contract_id ON public.engagement USING btree (account_id, contract_id);

CREATE INDEX engagement_ticket_id ON public.engagement USING btree (ticket_id);

CREATE UNIQUE INDEX inbound_message_dedupe_key ON public.inbound_message USING btree (dedupe_key);

CREATE INDEX inbound_message_message_id ON public.inbound_message USING btree (message_id);

CREATE INDEX inbound_message_ticket_id ON public.inbound_message USING btree (ticket_id);

CREATE INDEX intake_record_mailbox_acked ON public.intake_record USING btree (mailbox, acked);

CREATE UNIQUE INDEX intake_record_mailbox_key ON public.intake_record USING btree (mailbox, key);

CREATE INDEX meeting_attendee_meeting_id ON public.meeting_attendee USING btree (meeting_id);

CREATE UNIQUE INDEX meeting_attendee_meeting_id_email ON public.meeting_attendee USING btree (meeting_id, email);

CREATE INDEX meeting_engagement_id ON public.meeting USING btree (engagement_id);

CREATE UNIQUE INDEX meeting_engagement_id_key ON public.meeting USING btree (engagement_id, key);

CREATE INDEX meeting_start ON public.meeting USING btree (start);

CREATE UNIQUE INDEX meeting_uid ON public.meeting USING btree (uid);

CREATE INDEX outbound_message_engagement_id ON public.outbound_message USING btree (engagement_id);

CREATE UNIQUE INDEX outbound_message_message_id ON public.outbound_message USING btree (message_id);

CREATE INDEX outbound_message_next_attempt_at ON public.outbound_message USING btree (next_attempt_at);

CREATE INDEX outbound_message_purpose_recipients_created_at ON public.outbound_message USING btree (purpose, recipients, created_at);

CREATE INDEX outbound_message_status ON public.outbound_message USING btree (status);

CREATE INDEX outbound_message_ticket_id ON public.outbound_message USING btree (ticket_id);

CREATE INDEX quarantine_message_id ON public.quarantine USING btree (message_id);

CREATE INDEX quarantine_released_at ON public.quarantine USING btree (released_at);

CREATE INDEX sla_notice_ticket_id ON public.sla_notice USING btree (ticket_id);

CREATE UNIQUE INDEX sla_notice_ticket_id_clock_kind ON public.sla_notice USING btree (ticket_id, clock, kind);

CREATE INDEX ticket_account_id ON public.ticket USING btree (account_id);

CREATE INDEX ticket_assignee_assigned_at ON public.ticket USING btree (assignee, assigned_at);

CREATE INDEX ticket_assignee_status ON public.ticket USING btree (assignee, status);

CREATE INDEX ticket_created_at ON public.ticket USING btree (created_at);

CREATE INDEX ticket_event_ticket_id ON public.ticket_event USING btree (ticket_id);

CREATE INDEX ticket_event_ticket_id_at ON public.ticket_event USING btree (ticket_id, at);

CREATE INDEX ticket_next_sla_check ON public.ticket USING btree (next_sla_check);

CREATE INDEX ticket_requester ON public.ticket USING btree (requester);

CREATE INDEX ticket_status ON public.ticket USING btree (status);

ALTER TABLE ONLY public.account_domain
    ADD CONSTRAINT account_domain_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.contact
    ADD CONSTRAINT contact_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.engagement
    ADD CONSTRAINT engagement_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.engagement
    ADD CONSTRAINT engagement_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbound_message
    ADD CONSTRAINT inbound_message_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.meeting_attendee
    ADD CONSTRAINT meeting_attendee_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES public.meeting(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.meeting
    ADD CONSTRAINT meeting_engagement_id_fkey FOREIGN KEY (engagement_id) REFERENCES public.engagement(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.outbound_message
    ADD CONSTRAINT outbound_message_engagement_id_fkey FOREIGN KEY (engagement_id) REFERENCES public.engagement(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.outbound_message
    ADD CONSTRAINT outbound_message_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.inbound_message(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.sla_notice
    ADD CONSTRAINT sla_notice_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.ticket_event
    ADD CONSTRAINT ticket_event_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;



INSERT INTO wg_schema (version) VALUES (2);
