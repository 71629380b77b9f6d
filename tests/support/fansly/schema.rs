//! fansly-scraper's two database schemas, written from the fact sheet's tables (§2) — the
//! catalogs each era's migrations produce — for the fixture generator. Not the scraper's code:
//! the columns, keys and NOT NULL rules only, as a reader meets them.

/// The SQLite era's schema at Alembic revision `06658bf47c03` (the tables the import reads,
/// and their neighbours): TEXT timestamps, 0/1 booleans, `contentType` as a checked name, no
/// foreign key enforcement.
pub const SQLITE: &str = r#"
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE accounts (
    id INTEGER NOT NULL PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, "displayName" VARCHAR, flags INTEGER,
    version INTEGER, "createdAt" DATETIME, subscribed BOOLEAN, "timelineStats" INTEGER, following BOOLEAN,
    "profileAccess" BOOLEAN, about VARCHAR, location VARCHAR, stash_id INTEGER);
CREATE TABLE media (
    id INTEGER NOT NULL PRIMARY KEY, "accountId" INTEGER NOT NULL REFERENCES accounts (id), meta_info VARCHAR,
    location VARCHAR, flags INTEGER, status INTEGER, type INTEGER, mimetype VARCHAR, width INTEGER, height INTEGER,
    duration FLOAT, "createdAt" DATETIME, "updatedAt" DATETIME, local_filename VARCHAR, content_hash VARCHAR,
    is_downloaded INTEGER NOT NULL DEFAULT 0, stash_id INTEGER);
CREATE INDEX ix_media_content_hash ON media (content_hash);
CREATE TABLE media_variants (
    "mediaId" INTEGER NOT NULL REFERENCES media (id), "variantId" INTEGER NOT NULL REFERENCES media (id),
    PRIMARY KEY ("mediaId", "variantId"), UNIQUE ("mediaId", "variantId"));
CREATE TABLE media_locations (
    "mediaId" INTEGER NOT NULL REFERENCES media (id), "locationId" VARCHAR NOT NULL, location VARCHAR NOT NULL,
    PRIMARY KEY ("mediaId", "locationId"));
CREATE TABLE account_media (
    id INTEGER NOT NULL PRIMARY KEY, "accountId" INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    "mediaId" INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE, "previewId" INTEGER REFERENCES media (id),
    "createdAt" DATETIME NOT NULL, "deletedAt" DATETIME, deleted BOOLEAN NOT NULL, access BOOLEAN NOT NULL,
    stash_id INTEGER);
CREATE TABLE account_media_bundles (
    id INTEGER NOT NULL PRIMARY KEY, "accountId" INTEGER NOT NULL REFERENCES accounts (id),
    "previewId" INTEGER REFERENCES media (id), "createdAt" DATETIME NOT NULL, "deletedAt" DATETIME,
    deleted BOOLEAN NOT NULL, access BOOLEAN NOT NULL, purchased BOOLEAN NOT NULL, whitelisted BOOLEAN NOT NULL,
    stash_id INTEGER);
CREATE TABLE account_media_bundle_media (
    bundle_id INTEGER NOT NULL REFERENCES account_media_bundles (id) ON DELETE CASCADE,
    media_id INTEGER NOT NULL REFERENCES account_media (id) ON DELETE CASCADE, pos INTEGER NOT NULL,
    PRIMARY KEY (bundle_id, media_id));
CREATE TABLE posts (
    id INTEGER NOT NULL PRIMARY KEY, "accountId" INTEGER NOT NULL REFERENCES accounts (id), content VARCHAR,
    "fypFlag" INTEGER, "inReplyTo" INTEGER, "inReplyToRoot" INTEGER, "createdAt" DATETIME, "expiresAt" DATETIME,
    stash_id INTEGER);
CREATE TABLE groups (
    id INTEGER NOT NULL PRIMARY KEY, "createdBy" INTEGER NOT NULL REFERENCES accounts (id), "lastMessageId" INTEGER);
CREATE TABLE group_users (
    "groupId" INTEGER NOT NULL REFERENCES groups (id), "accountId" INTEGER NOT NULL REFERENCES accounts (id),
    PRIMARY KEY ("groupId", "accountId"));
CREATE TABLE messages (
    id INTEGER NOT NULL PRIMARY KEY, "groupId" INTEGER REFERENCES groups (id),
    "senderId" INTEGER NOT NULL REFERENCES accounts (id), "recipientId" INTEGER REFERENCES accounts (id),
    content VARCHAR NOT NULL, "createdAt" DATETIME NOT NULL, "deletedAt" DATETIME, deleted BOOLEAN NOT NULL,
    stash_id INTEGER);
CREATE INDEX ix_messages_groupId ON messages ("groupId");
CREATE TABLE attachments (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "postId" INTEGER REFERENCES posts (id),
    "messageId" INTEGER REFERENCES messages (id), "contentId" INTEGER NOT NULL, pos INTEGER NOT NULL,
    "contentType" VARCHAR(20) NOT NULL CHECK ("contentType" IN ('ACCOUNT_MEDIA', 'ACCOUNT_MEDIA_BUNDLE',
        'AGGREGATED_POSTS', 'TIP_GOALS', 'STORY', 'POLL')),
    CHECK ("postId" IS NULL OR "messageId" IS NULL));
CREATE TABLE pinned_posts (
    "postId" INTEGER NOT NULL REFERENCES posts (id), "accountId" INTEGER NOT NULL REFERENCES accounts (id),
    pos INTEGER NOT NULL, "createdAt" DATETIME, PRIMARY KEY ("postId", "accountId"));
CREATE TABLE hashtags (id INTEGER NOT NULL PRIMARY KEY, value VARCHAR NOT NULL UNIQUE, stash_id INTEGER);
CREATE UNIQUE INDEX ix_hashtags_value_nocase ON hashtags (value COLLATE NOCASE);
CREATE INDEX ix_hashtags_value_lower ON hashtags (lower(value));
CREATE TABLE post_hashtags (
    "postId" INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    "hashtagId" INTEGER NOT NULL REFERENCES hashtags (id) ON DELETE CASCADE,
    PRIMARY KEY ("postId", "hashtagId"), UNIQUE ("postId", "hashtagId"));
CREATE TABLE post_mentions (
    "postId" INTEGER NOT NULL REFERENCES posts (id), "accountId" INTEGER REFERENCES accounts (id),
    handle VARCHAR NOT NULL, PRIMARY KEY ("postId", handle), UNIQUE ("postId", "accountId"), UNIQUE ("postId", handle));
CREATE TABLE walls (
    id INTEGER NOT NULL PRIMARY KEY, "accountId" INTEGER NOT NULL REFERENCES accounts (id), pos INTEGER,
    name VARCHAR, description VARCHAR, "createdAt" DATETIME, stash_id INTEGER);
CREATE TABLE wall_posts (
    "wallId" INTEGER NOT NULL REFERENCES walls (id), "postId" INTEGER NOT NULL REFERENCES posts (id),
    PRIMARY KEY ("wallId", "postId"));
CREATE TABLE account_avatar ("accountId" INTEGER REFERENCES accounts (id), "mediaId" INTEGER REFERENCES media (id),
    UNIQUE ("accountId", "mediaId"));
CREATE TABLE account_banner ("accountId" INTEGER REFERENCES accounts (id), "mediaId" INTEGER REFERENCES media (id),
    UNIQUE ("accountId", "mediaId"));
"#;

/// The PostgreSQL era's schema at HEAD (`b6d60f698c27`), schema `public`: bigint ids,
/// `timestamptz`, booleans, the `contenttype` enum, `post_hashtags` without a primary key,
/// `post_mentions.id` and no FK on `post_mentions.accountId`, a nullable `media_locations.location`.
pub const POSTGRES: &str = r#"
CREATE TYPE contenttype AS ENUM ('ACCOUNT_MEDIA', 'ACCOUNT_MEDIA_BUNDLE', 'AGGREGATED_POSTS', 'TIP_GOALS', 'STORY', 'POLL');
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL CONSTRAINT alembic_version_pkc PRIMARY KEY);
CREATE TABLE accounts (
    id bigserial PRIMARY KEY, username varchar NOT NULL UNIQUE, "displayName" varchar, flags integer,
    version integer, "createdAt" timestamptz, subscribed boolean, following boolean, "profileAccess" boolean,
    about varchar, location varchar, stash_id integer);
CREATE TABLE media (
    id bigserial PRIMARY KEY, "accountId" bigint NOT NULL REFERENCES accounts (id), meta_info varchar,
    location varchar, flags integer, status integer, type integer, mimetype varchar, width integer, height integer,
    duration double precision, "createdAt" timestamptz, "updatedAt" timestamptz, local_filename varchar,
    content_hash varchar, is_downloaded boolean NOT NULL DEFAULT false, stash_id integer);
CREATE INDEX ix_media_content_hash ON media (content_hash);
CREATE TABLE media_variants (
    "mediaId" bigint NOT NULL REFERENCES media (id), "variantId" bigint NOT NULL REFERENCES media (id),
    PRIMARY KEY ("mediaId", "variantId"));
CREATE TABLE media_locations (
    "mediaId" bigint NOT NULL REFERENCES media (id) ON DELETE CASCADE, "locationId" bigint NOT NULL,
    location varchar, UNIQUE ("mediaId", "locationId"));
CREATE TABLE account_media (
    id bigserial PRIMARY KEY, "accountId" bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    "mediaId" bigint NOT NULL REFERENCES media (id) ON DELETE CASCADE, "previewId" bigint REFERENCES media (id),
    "createdAt" timestamptz NOT NULL, "deletedAt" timestamptz, deleted boolean NOT NULL, access boolean NOT NULL,
    stash_id integer);
CREATE INDEX ix_account_media_accountId ON account_media ("accountId");
CREATE TABLE account_media_bundles (
    id bigserial PRIMARY KEY, "accountId" bigint NOT NULL REFERENCES accounts (id),
    "previewId" bigint REFERENCES media (id), "createdAt" timestamptz NOT NULL, "deletedAt" timestamptz,
    deleted boolean NOT NULL, access boolean NOT NULL, purchased boolean NOT NULL, whitelisted boolean NOT NULL,
    stash_id integer);
CREATE TABLE account_media_bundle_media (
    bundle_id bigint NOT NULL REFERENCES account_media_bundles (id) ON DELETE CASCADE,
    media_id bigint NOT NULL REFERENCES account_media (id) ON DELETE CASCADE, pos integer NOT NULL,
    PRIMARY KEY (bundle_id, media_id));
CREATE TABLE posts (
    id bigserial PRIMARY KEY, "accountId" bigint NOT NULL REFERENCES accounts (id), content varchar,
    "fypFlag" integer, "inReplyTo" bigint, "inReplyToRoot" bigint, "createdAt" timestamptz, "expiresAt" timestamptz,
    stash_id integer);
CREATE TABLE groups (id bigserial PRIMARY KEY, "createdBy" bigint NOT NULL REFERENCES accounts (id), "lastMessageId" bigint);
CREATE TABLE group_users ("groupId" bigint NOT NULL REFERENCES groups (id), "accountId" bigint NOT NULL,
    PRIMARY KEY ("groupId", "accountId"));
CREATE TABLE messages (
    id bigserial PRIMARY KEY, "groupId" bigint REFERENCES groups (id),
    "senderId" bigint NOT NULL REFERENCES accounts (id), "recipientId" bigint REFERENCES accounts (id),
    content varchar NOT NULL, "createdAt" timestamptz NOT NULL, "deletedAt" timestamptz, deleted boolean NOT NULL,
    stash_id integer);
CREATE INDEX ix_messages_groupId ON messages ("groupId");
CREATE TABLE attachments (
    id bigserial PRIMARY KEY, "postId" bigint REFERENCES posts (id), "messageId" bigint REFERENCES messages (id),
    "contentId" bigint NOT NULL, pos integer NOT NULL, "contentType" contenttype NOT NULL,
    CHECK ("postId" IS NULL OR "messageId" IS NULL));
CREATE TABLE pinned_posts (
    "postId" bigint NOT NULL REFERENCES posts (id), "accountId" bigint NOT NULL REFERENCES accounts (id),
    pos integer NOT NULL, "createdAt" timestamptz, PRIMARY KEY ("postId", "accountId"));
CREATE TABLE hashtags (id serial PRIMARY KEY, value varchar NOT NULL, stash_id integer);
CREATE UNIQUE INDEX ix_hashtags_value_lower ON hashtags (lower(value));
CREATE TABLE post_hashtags (
    "postId" bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    "hashtagId" integer NOT NULL REFERENCES hashtags (id) ON DELETE CASCADE,
    CONSTRAINT pk_post_hashtags UNIQUE ("postId", "hashtagId"));
CREATE TABLE post_mentions (
    id serial PRIMARY KEY, "postId" bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE, "accountId" bigint,
    handle varchar NOT NULL, UNIQUE ("postId", "accountId"), UNIQUE ("postId", handle));
CREATE TABLE walls (
    id bigserial PRIMARY KEY, "accountId" bigint NOT NULL REFERENCES accounts (id), pos integer, name varchar,
    description varchar, "createdAt" timestamptz, stash_id integer);
CREATE TABLE wall_posts (
    "wallId" bigint NOT NULL REFERENCES walls (id) ON DELETE CASCADE,
    "postId" bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE, PRIMARY KEY ("wallId", "postId"));
CREATE TABLE account_avatar ("accountId" bigint REFERENCES accounts (id), "mediaId" bigint REFERENCES media (id),
    UNIQUE ("accountId", "mediaId"));
CREATE TABLE account_banner ("accountId" bigint REFERENCES accounts (id), "mediaId" bigint REFERENCES media (id),
    UNIQUE ("accountId", "mediaId"));
CREATE TABLE stub_tracker (table_name varchar NOT NULL, record_id bigint NOT NULL, created_at timestamptz NOT NULL,
    reason varchar, PRIMARY KEY (table_name, record_id));
"#;
