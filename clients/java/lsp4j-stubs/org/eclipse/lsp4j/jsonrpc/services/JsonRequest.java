// A stand-in for LSP4J's annotation of the same name, with its signature,
// so that make clients can compile clients/java without LSP4J's jar (no
// Maven Central here). Plugins compile against LSP4J itself instead.
package org.eclipse.lsp4j.jsonrpc.services;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface JsonRequest {
	String value() default "";

	boolean useSegment() default true;
}
