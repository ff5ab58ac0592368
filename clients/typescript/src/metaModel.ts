// The shape of protocol/metaModel.json (LSP's metaModel, plus "format" on
// base types), and a checker that holds JSON values to it at run time.

export interface MetaModel {
	metaData: { version: string };
	requests: { method: string; params?: Type; result: Type; messageDirection: string; documentation?: string }[];
	notifications: { method: string; params?: Type; messageDirection: string; documentation?: string }[];
	structures: Structure[];
	enumerations: { name: string; type: Type; values: { name: string; value: string | number }[] }[];
	typeAliases: { name: string; type: Type }[];
}

export interface Property {
	name: string;
	type: Type;
	optional?: boolean;
}

export interface Structure {
	name: string;
	mixins?: Type[];
	properties: Property[];
}

export type Type =
	| { kind: 'base'; name: string; format?: string }
	| { kind: 'reference'; name: string }
	| { kind: 'array'; element: Type }
	| { kind: 'map'; key: Type; value: Type }
	| { kind: 'or'; items: Type[] }
	| { kind: 'literal'; value: { properties: Property[] } }
	| { kind: 'stringLiteral'; value: string };

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checker holds values odod sends to the description: every required
 * property there, no property the description does not know, every value of
 * its type, every enumeration value one of its values.
 */
export class Checker {
	private readonly structures = new Map<string, Structure>();
	private readonly enumerations = new Map<string, Set<string | number>>();
	private readonly aliases = new Map<string, Type>();

	constructor(readonly model: MetaModel) {
		for (const s of model.structures) this.structures.set(s.name, s);
		for (const e of model.enumerations) this.enumerations.set(e.name, new Set(e.values.map((v) => v.value)));
		for (const a of model.typeAliases) this.aliases.set(a.name, a.type);
	}

	/** The problems of a request's result. */
	result(method: string, value: unknown): string[] {
		const r = this.model.requests.find((x) => x.method === method);
		if (!r) return [`${method}: not in the description`];
		return this.check(r.result, value, `${method} result`);
	}

	/** The problems of a notification's or a request's params. */
	params(method: string, value: unknown): string[] {
		const m = this.model.notifications.find((x) => x.method === method) ?? this.model.requests.find((x) => x.method === method);
		if (!m) return [`${method}: not in the description`];
		if (!m.params) return value === undefined || value === null ? [] : [`${method}: params where the description has none`];
		return this.check(m.params, value, `${method} params`);
	}

	/** The problems of value as a t, at path. */
	check(t: Type, value: unknown, path: string): string[] {
		const bad = (what: string) => [`${path}: ${what}, got ${JSON.stringify(value)?.slice(0, 80)}`];
		switch (t.kind) {
			case 'base':
				switch (t.name) {
					case 'string':
						if (typeof value !== 'string') return bad('want a string');
						if (t.format === 'date-time' && !rfc3339.test(value)) return bad('want an RFC 3339 time');
						return [];
					case 'integer':
						return Number.isInteger(value) ? [] : bad('want an integer');
					case 'uinteger':
						return Number.isInteger(value) && (value as number) >= 0 ? [] : bad('want an unsigned integer');
					case 'decimal':
						return typeof value === 'number' ? [] : bad('want a number');
					case 'boolean':
						return typeof value === 'boolean' ? [] : bad('want a boolean');
					case 'null':
						return value === null ? [] : bad('want null');
				}
				return bad(`unknown base type ${t.name}`);
			case 'stringLiteral':
				return value === t.value ? [] : bad(`want ${JSON.stringify(t.value)}`);
			case 'array':
				if (!Array.isArray(value)) return bad('want an array');
				return value.flatMap((v, i) => this.check(t.element, v, `${path}[${i}]`));
			case 'map':
				if (!isObject(value)) return bad('want an object');
				return Object.entries(value).flatMap(([k, v]) => this.check(t.value, v, `${path}.${k}`));
			case 'or': {
				const tries = t.items.map((it) => this.check(it, value, path));
				return tries.some((p) => p.length === 0) ? [] : bad('matches none of its alternatives');
			}
			case 'literal':
				return this.properties(t.value.properties, value, path);
			case 'reference': {
				const alias = this.aliases.get(t.name);
				if (alias) return this.check(alias, value, path);
				const values = this.enumerations.get(t.name);
				if (values) return values.has(value as string | number) ? [] : bad(`not a value of ${t.name}`);
				const s = this.structures.get(t.name);
				if (s) return this.properties(this.allProperties(s), value, path);
				return bad(`unknown type ${t.name}`);
			}
		}
	}

	private allProperties(s: Structure): Property[] {
		const mixed = (s.mixins ?? []).flatMap((m) => {
			const ms = m.kind === 'reference' ? this.structures.get(m.name) : undefined;
			return ms ? this.allProperties(ms) : [];
		});
		return [...mixed, ...s.properties];
	}

	private properties(props: Property[], value: unknown, path: string): string[] {
		if (!isObject(value)) return [`${path}: want an object, got ${JSON.stringify(value)?.slice(0, 80)}`];
		const problems: string[] = [];
		const known = new Set(props.map((p) => p.name));
		for (const p of props) {
			const v = value[p.name];
			if (v === undefined) {
				if (!p.optional) problems.push(`${path}.${p.name}: required, missing`);
				continue;
			}
			problems.push(...this.check(p.type, v, `${path}.${p.name}`));
		}
		for (const k of Object.keys(value)) {
			if (!known.has(k)) problems.push(`${path}.${k}: not in the description`);
		}
		return problems;
	}
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}
