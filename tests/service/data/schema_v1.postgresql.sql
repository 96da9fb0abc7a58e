-- The schema at version 1 (the foundation release), as PostgreSQL DDL (pg_dump): tests migrate it upward.


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
    sent_at timestamp without time zone
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

CREATE TABLE public.ticket (
    id integer NOT NULL,
    kind character varying(30) NOT NULL,
    status character varying(20) NOT NULL,
    priority character varying(4) NOT NULL,
    subject text NOT NULL,
    requester character varying(320) NOT NULL,
    requester_name character varying(200) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

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

ALTER TABLE ONLY public.inbound_message ALTER COLUMN id SET DEFAULT nextval('public.inbound_message_id_seq'::regclass);

ALTER TABLE ONLY public.intake_record ALTER COLUMN id SET DEFAULT nextval('public.intake_record_id_seq'::regclass);

ALTER TABLE ONLY public.outbound_message ALTER COLUMN id SET DEFAULT nextval('public.outbound_message_id_seq'::regclass);

ALTER TABLE ONLY public.quarantine ALTER COLUMN id SET DEFAULT nextval('public.quarantine_id_seq'::regclass);

ALTER TABLE ONLY public.ticket ALTER COLUMN id SET DEFAULT nextval('public.ticket_id_seq'::regclass);

ALTER TABLE ONLY public.wg_schema ALTER COLUMN id SET DEFAULT nextval('public.wg_schema_id_seq'::regclass);

ALTER TABLE ONLY public.inbound_message
    ADD CONSTRAINT inbound_message_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.intake_record
    ADD CONSTRAINT intake_record_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mailbox_state
    ADD CONSTRAINT mailbox_state_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.outbound_message
    ADD CONSTRAINT outbound_message_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.wg_schema
    ADD CONSTRAINT wg_schema_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX inbound_message_dedupe_key ON public.inbound_message USING btree (dedupe_key);

CREATE INDEX inbound_message_message_id ON public.inbound_message USING btree (message_id);

CREATE INDEX inbound_message_ticket_id ON public.inbound_message USING btree (ticket_id);

CREATE INDEX intake_record_mailbox_acked ON public.intake_record USING btree (mailbox, acked);

CREATE UNIQUE INDEX intake_record_mailbox_key ON public.intake_record USING btree (mailbox, key);

CREATE UNIQUE INDEX outbound_message_message_id ON public.outbound_message USING btree (message_id);

CREATE INDEX outbound_message_next_attempt_at ON public.outbound_message USING btree (next_attempt_at);

CREATE INDEX outbound_message_status ON public.outbound_message USING btree (status);

CREATE INDEX outbound_message_ticket_id ON public.outbound_message USING btree (ticket_id);

CREATE INDEX quarantine_message_id ON public.quarantine USING btree (message_id);

CREATE INDEX quarantine_released_at ON public.quarantine USING btree (released_at);

CREATE INDEX ticket_created_at ON public.ticket USING btree (created_at);

CREATE INDEX ticket_requester ON public.ticket USING btree (requester);

CREATE INDEX ticket_status ON public.ticket USING btree (status);

ALTER TABLE ONLY public.inbound_message
    ADD CONSTRAINT inbound_message_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.outbound_message
    ADD CONSTRAINT outbound_message_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.inbound_message(id) ON DELETE CASCADE;


INSERT INTO wg_schema (version) VALUES (1);
