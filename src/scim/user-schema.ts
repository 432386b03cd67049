/**
 * The SCIM schemas this server really supports (RFC 7643 section 7 format).
 * `/Schemas` serves them, the PATCH engine and the filter translator use them
 * to resolve attribute names case-insensitively and to check mutability.
 */
export type AttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'binary'
  | 'complex';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const WSO2_USER_SCHEMA = 'urn:scim:wso2:schema';
export const USER_EXTENSION_SCHEMAS = [ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA] as const;

type AttributeOptions = Partial<Omit<AttributeDef, 'name' | 'description'>>;

export function attr(name: string, description: string, options: AttributeOptions = {}): AttributeDef {
  return {
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
}

/** RFC 7643 section 4.1.2 / 8.7.1: value, display, type, primary, all client-writable. */
function multiValuedComplex(
  name: string,
  description: string,
  canonicalTypes: string[],
  valueOptions: AttributeOptions = {},
): AttributeDef {
  return attr(name, description, {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attr('value', `The ${name} value.`, valueOptions),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr('type', 'A label indicating the function of the value.', {
        ...(canonicalTypes.length > 0 ? { canonicalValues: canonicalTypes } : {}),
      }),
      attr('primary', 'Indicates the primary value.', { type: 'boolean' }),
    ],
  });
}

const nameAttribute = attr('name', "The components of the user's real name.", {
  type: 'complex',
  subAttributes: [
    attr('formatted', 'The full name, formatted for display.'),
    attr('familyName', 'The family name of the User.'),
    attr('givenName', 'The given name of the User.'),
    attr('middleName', 'The middle name(s) of the User.'),
    attr('honorificPrefix', 'The honorific prefix(es) of the User.'),
    attr('honorificSuffix', 'The honorific suffix(es) of the User.'),
  ],
});

const addressesAttribute = attr('addresses', 'A physical mailing address for this User.', {
  type: 'complex',
  multiValued: true,
  subAttributes: [
    attr('formatted', 'The full mailing address, formatted for display.'),
    attr('streetAddress', 'The full street address component.'),
    attr('locality', 'The city or locality component.'),
    attr('region', 'The state or region component.'),
    attr('postalCode', 'The zip code or postal code component.'),
    attr('country', 'The country name component.'),
    attr('type', 'A label indicating the function of the address.', { canonicalValues: ['work', 'home', 'other'] }),
    attr('primary', 'Indicates the primary address.', { type: 'boolean' }),
  ],
});

const rolesAttribute = attr(
  'roles',
  "A list of roles for the User, kept as sent. The value 'admin' makes the User an administrator: granting or " +
    'revoking it needs the right to manage administrators. Other values confer nothing on this server.',
  {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attr('value', 'The value of a role.'),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr('type', 'A label indicating the role type.'),
      attr('primary', 'Indicates the primary role.', { type: 'boolean' }),
    ],
  },
);

const metaAttribute = attr('meta', 'Resource metadata.', {
  type: 'complex',
  mutability: 'readOnly',
  subAttributes: [
    attr('resourceType', 'The name of the resource type.', { mutability: 'readOnly', caseExact: true }),
    attr('created', 'When the resource was created.', { type: 'dateTime', mutability: 'readOnly' }),
    attr('lastModified', 'When the resource was last modified.', { type: 'dateTime', mutability: 'readOnly' }),
    attr('location', 'The URI of the resource.', { type: 'reference', mutability: 'readOnly', caseExact: true }),
    attr('version', 'The version (ETag) of the resource.', { mutability: 'readOnly', caseExact: true }),
  ],
});

export const coreUserSchema: SchemaDef = {
  id: CORE_USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('id', 'Unique identifier for the SCIM resource.', {
      mutability: 'readOnly',
      returned: 'always',
      caseExact: true,
      uniqueness: 'server',
    }),
    attr('externalId', 'Identifier of the resource as defined by the provisioning client.', { caseExact: true }),
    attr('userName', 'Unique identifier for the User, used to authenticate.', {
      required: true,
      returned: 'always',
      uniqueness: 'server',
    }),
    nameAttribute,
    attr('displayName', 'The name of the User, suitable for display to end-users.'),
    attr('nickName', 'The casual way to address the user in real life.'),
    attr('profileUrl', "A fully qualified URL pointing to a page representing the User's online profile.", {
      type: 'reference',
      referenceTypes: ['external'],
    }),
    attr('title', "The user's title, such as 'Vice President'."),
    attr('userType', 'Used to identify the relationship between the organization and the user.'),
    attr('preferredLanguage', "Indicates the User's preferred written or spoken language."),
    attr('locale', "Used to indicate the User's default location."),
    attr('timezone', "The User's time zone in the 'Olson' time zone database format."),
    attr('active', "A Boolean value indicating the User's administrative status.", { type: 'boolean' }),
    attr('password', "The User's cleartext password. Write-only; stored as a slow hash.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValuedComplex('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multiValuedComplex('phoneNumbers', 'Phone numbers for the User.', [
      'mobile',
      'work',
      'home',
      'fax',
      'pager',
      'other',
    ]),
    multiValuedComplex('ims', 'Instant messaging addresses for the User.', [
      'aim',
      'gtalk',
      'icq',
      'xmpp',
      'msn',
      'skype',
      'qq',
      'yahoo',
    ]),
    multiValuedComplex('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], {
      type: 'reference',
      referenceTypes: ['external'],
    }),
    addressesAttribute,
    multiValuedComplex('entitlements', 'A list of entitlements for the User.', []),
    rolesAttribute,
    multiValuedComplex('x509Certificates', 'A list of certificates issued to the User.', [], { type: 'binary' }),
    metaAttribute,
  ],
};

/**
 * WSO2 IS 5.x/6.x exposed these in the enterprise extension, 7.1/7.2 in urn:scim:wso2:schema; both carry them,
 * bound to the same claims. Administrators may write phoneVerified and remove pendingMobileNumber (to cancel a
 * verification) through /Users; through /Me both are read-only.
 */
function mobileVerificationAttributes(): AttributeDef[] {
  return [
    attr(
      'pendingMobileNumber',
      'The mobile number waiting for verification before it becomes primary. Administrators may remove it to cancel the verification.',
    ),
    attr('phoneVerified', 'Whether the primary mobile number has been verified. Writable by administrators only.', {
      type: 'boolean',
    }),
    attr('verifyMobile', 'Request-only flag: start verification for a mobile number update.', {
      type: 'boolean',
      mutability: 'writeOnly',
      returned: 'never',
    }),
  ];
}

export const enterpriseUserSchema: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
    attr('costCenter', 'Identifies the name of a cost center.'),
    attr('organization', 'Identifies the name of an organization.'),
    attr('division', 'Identifies the name of a division.'),
    attr('department', 'Identifies the name of a department.'),
    attr('manager', "The User's manager.", {
      type: 'complex',
      subAttributes: [
        attr('value', 'The id of the SCIM resource representing the manager.', { caseExact: true }),
        attr('$ref', 'The URI of the SCIM resource representing the manager.', {
          type: 'reference',
          referenceTypes: ['User'],
          caseExact: true,
        }),
        attr('displayName', 'The displayName of the manager.'),
      ],
    }),
    ...mobileVerificationAttributes(),
  ],
};

export const wso2UserSchema: SchemaDef = {
  id: WSO2_USER_SCHEMA,
  name: 'WSO2User',
  description: 'WSO2 user extension: mobile number verification and multiple mobile numbers',
  attributes: [
    attr('mobileNumbers', "All of the user's mobile numbers (requests may also send one comma-separated string).", {
      multiValued: true,
    }),
    attr(
      'verifiedMobileNumbers',
      "The user's verified mobile numbers (requests may also send one comma-separated string).",
      {
        multiValued: true,
      },
    ),
    ...mobileVerificationAttributes(),
    attr('accountLocked', 'Locked after too many failed logins (or by an administrator); false unlocks.', {
      type: 'boolean',
    }),
  ],
};

export const USER_SCHEMAS: readonly SchemaDef[] = [coreUserSchema, enterpriseUserSchema, wso2UserSchema];

/** Finds a schema by URN, case-insensitively. */
export function findSchema(urn: string): SchemaDef | undefined {
  const wanted = urn.toLowerCase();
  return USER_SCHEMAS.find((schema) => schema.id.toLowerCase() === wanted);
}

/** Finds an attribute by name, case-insensitively (RFC 7643 section 2.1). */
export function findAttribute(attributes: readonly AttributeDef[], name: string): AttributeDef | undefined {
  const wanted = name.toLowerCase();
  return attributes.find((attribute) => attribute.name.toLowerCase() === wanted);
}
