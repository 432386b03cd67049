import { Type } from '@sinclair/typebox';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const MAX_PAGE_SIZE = 200;
export const MAX_PATCH_OPERATIONS = 100;

export const ScimErrorSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    status: Type.String(),
    scimType: Type.Optional(Type.String()),
    detail: Type.String(),
  },
  { $id: 'ScimError' },
);

export const ScimUserSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String({ format: 'uuid' }),
    userName: Type.String(),
    // Optional: `attributes` / `excludedAttributes` may leave meta out.
    meta: Type.Optional(
      Type.Object(
        {
          resourceType: Type.Optional(Type.String()),
          created: Type.Optional(Type.String()),
          lastModified: Type.Optional(Type.String()),
          location: Type.Optional(Type.String()),
          version: Type.Optional(Type.String()),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true, description: 'A SCIM User with the enterprise and urn:scim:wso2:schema extensions' },
);

/** Attribute-level validation happens in the PATCH/normalisation module, which knows the SCIM schemas. */
export const ScimUserInputSchema = Type.Object({}, { additionalProperties: true });

export const PatchBodySchema = Type.Object({
  schemas: Type.Array(Type.String(), { minItems: 1 }),
  Operations: Type.Array(
    Type.Object({
      op: Type.String({ minLength: 1, maxLength: 16 }),
      path: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
      value: Type.Optional(Type.Unknown()),
    }),
    { minItems: 1, maxItems: MAX_PATCH_OPERATIONS },
  ),
});

/**
 * Only a guard against absurd input: the filter's real bounds (length, comparisons) are checked by
 * src/scim/filter-limits.ts, with a detail that says them (400 invalidFilter).
 */
const FILTER_TRANSPORT_LIMIT = 16_384;

export const IdParamsSchema = Type.Object({ id: Type.String({ maxLength: 128 }) });

export const ProjectionQuerySchema = Type.Object({
  attributes: Type.Optional(Type.String({ maxLength: 2048 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const ListQuerySchema = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: FILTER_TRANSPORT_LIMIT })),
  startIndex: Type.Integer({ default: 1 }),
  count: Type.Integer({ default: 100 }),
  sortBy: Type.Optional(Type.String({ maxLength: 256 })),
  sortOrder: Type.Optional(Type.String({ maxLength: 16 })),
  attributes: Type.Optional(Type.String({ maxLength: 2048 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const SearchBodySchema = Type.Object({
  schemas: Type.Array(Type.String(), { minItems: 1 }),
  filter: Type.Optional(Type.String({ maxLength: FILTER_TRANSPORT_LIMIT })),
  startIndex: Type.Optional(Type.Integer()),
  count: Type.Optional(Type.Integer()),
  sortBy: Type.Optional(Type.String({ maxLength: 256 })),
  sortOrder: Type.Optional(Type.String({ maxLength: 16 })),
  attributes: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
  excludedAttributes: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
});

export const ListResponseSchema = Type.Object({
  schemas: Type.Array(Type.String()),
  totalResults: Type.Integer(),
  startIndex: Type.Integer(),
  itemsPerPage: Type.Integer(),
  Resources: Type.Array(Type.Object({}, { additionalProperties: true })),
});

export const ScimErrorResponses = {
  400: ScimErrorSchema,
  401: ScimErrorSchema,
  403: ScimErrorSchema,
  404: ScimErrorSchema,
  409: ScimErrorSchema,
  412: ScimErrorSchema,
  413: ScimErrorSchema,
  415: ScimErrorSchema,
  500: ScimErrorSchema,
  503: ScimErrorSchema,
};
