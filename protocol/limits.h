/*
 * crosscount: every limit in one place (SQLite sqliteLimit.h style).
 *
 * Every size or count that a client, a peer node, an import file or an
 * analyst controls is bounded here. Code checks against these names and
 * nothing else; protocol/SPEC.md cites the same values.
 */
#ifndef CC_LIMITS_H
#define CC_LIMITS_H

/* Identities and text fields */
#define CC_LIMIT_IDENTITY_TEXT       32      /* bytes of a written personnummer */
#define CC_LIMIT_NODE_ID             32      /* [a-z0-9-]{1,32} */
#define CC_LIMIT_CATEGORY            64      /* bytes of a category name */
#define CC_LIMIT_UNIT                128     /* bytes of a unit name */
#define CC_LIMIT_LABEL               64      /* bytes of a set label */
#define CC_LIMIT_TITLE               200     /* bytes of a query title */

/* Queries */
#define CC_LIMIT_QUERY_JSON          65536   /* bytes of one query document */
#define CC_LIMIT_SETS                6       /* sets per query: 63 Venn regions */
#define CC_LIMIT_NODES_PER_SET       16
#define CC_LIMIT_QUERY_NODES         32      /* distinct nodes in one query */
#define CC_LIMIT_CATEGORIES_PER_SET  32
#define CC_LIMIT_AGE_BANDS           20
#define CC_LIMIT_AGE                 130     /* highest age a band may name */
#define CC_LIMIT_PERIOD_MONTHS       120     /* longest period */
#define CC_LIMIT_BREAKDOWN           2       /* age_band, sex */
#define CC_LIMIT_MIN_CELL            1000    /* highest min_cell accepted */

/* Released tables and disclosure control */
#define CC_LIMIT_TABLE_CELLS         8192    /* Venn regions x breakdown cells */

/* Audit trail (aggregator) */
#define CC_LIMIT_AUDIT_DETAIL        (4u * CC_LIMIT_QUERY_JSON) /* bytes of one entry's detail JSON */

/* Batches */
#define CC_LIMIT_BATCH_ELEMENTS      (1u << 24)  /* 16.7 million records */
#define CC_LIMIT_BATCH_REFS          (CC_LIMIT_AGE_BANDS * 2 + 1) /* attribute values incl. dummy */
#define CC_LIMIT_CERT_DER            8192    /* bytes of a signer certificate */
#define CC_LIMIT_SIGNATURE           512     /* bytes of a signature */

/* Node import */
#define CC_LIMIT_CSV_LINE            4096    /* bytes of one CSV record */
#define CC_LIMIT_CSV_FIELD           1024    /* bytes of one CSV field */
#define CC_LIMIT_CSV_COLUMNS         64
#define CC_LIMIT_CONFIG_LINE         1024    /* bytes of one node.conf line */
#define CC_LIMIT_CONFIG_LINES        10000
#define CC_LIMIT_NODE_CATEGORIES     256     /* distinct categories at a node */

/* HTTP (aggregator) */
#define CC_LIMIT_HTTP_HEADERS        16384   /* bytes of request headers */
#define CC_LIMIT_HTTP_BODY           (1u << 20)  /* JSON request body */
#define CC_LIMIT_HTTP_RESPONSE       (8u << 20)  /* JSON answer a client reads */
#define CC_LIMIT_HTTP_CONNECTIONS    256
#define CC_LIMIT_UPLOAD              ((size_t)CC_LIMIT_BATCH_ELEMENTS * 96u + 65536u)
#define CC_LIMIT_UPLOAD_PART         (2u << 20)  /* one PUT of a batch part */
#define CC_LIMIT_PASSWORD            256
#define CC_LIMIT_USERNAME            64

/* Threads */
#define CC_LIMIT_THREADS             256

#endif
