/* Given to cppcheck (which does not read system headers) so it can parse
 * code using jansson's iteration macros. Not compiled into anything. */
#define json_object_foreach(object, key, value)                                                    \
	for (key = json_object_iter_key(object), value = json_object_iter_value(object); key;      \
	     key = json_object_iter_key(object), value = json_object_iter_value(object))
#define json_object_foreach_safe(object, n, key, value)                                            \
	for (key = json_object_iter_key(object), value = json_object_iter_value(object),           \
	    n = json_object_iter(object);                                                          \
	     key; key = json_object_iter_key(n), value = json_object_iter_value(n))
#define json_array_foreach(array, index, value)                                                    \
	for (index = 0, value = json_array_get(array, 0); index < json_array_size(array);          \
	     index++, value = json_array_get(array, index))
